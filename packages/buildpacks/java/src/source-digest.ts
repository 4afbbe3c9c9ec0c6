/**
 * A digest of the app's sources (every file but build outputs and VCS data), so a rebuild of
 * unchanged sources can reuse the last build's output instead of running Maven or Gradle again.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Top-level and nested directory names that are outputs or tool state, not sources. */
export const IGNORED_DIRS = new Set([
  'target',
  'build',
  '.gradle',
  '.git',
  '.heroku',
  // The JDK the buildpack placed in the build dir (debian-jdk.ts) before the digest is taken:
  // reading its 300 MB cost every warm build more than half a second.
  '.jdk',
  '.profile.d',
  'node_modules',
]);

/** sha256 over relative paths and contents of the source files under `root`, in a stable order. */
export async function sourceDigest(root: string, extra = ''): Promise<string> {
  const h = createHash('sha256');
  h.update(`${extra}\n`);
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(root, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!IGNORED_DIRS.has(e.name)) await walk(path);
      } else if (e.isFile()) {
        h.update(`${path}\0`);
        h.update(await readFile(join(root, path)));
        h.update('\0');
      } else if (e.isSymbolicLink()) h.update(`${path}\0-> symlink\0`);
    }
  };
  await walk('');
  return h.digest('hex');
}
