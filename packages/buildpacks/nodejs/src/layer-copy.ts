/**
 * Cheap cache copies: a layer is filled with hard links to the build dir's files (no data
 * copied) and checked before it is used again. A file that something later rewrote in place
 * has a newer mtime than the layer's save time, so the layer is treated as a miss rather than
 * restored with foreign content. Restores are real copies, so a build never writes into a layer.
 */
import { copyFile, lstat, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildpackCompileContext } from '@slipway/buildpack-sdk';

/** Files package managers rewrite in place after installing; the layer keeps its own copy. */
export const REWRITTEN_IN_PLACE = [
  '.package-lock.json',
  '.modules.yaml',
  '.pnpm/lock.yaml',
  '.yarn-integrity',
  '.yarn-state.yml',
] as const;

/** Fill `to` (which must not exist) from `from` with hard links, or a real copy across filesystems. */
export async function linkCopy(
  ctx: BuildpackCompileContext,
  from: string,
  to: string,
  ownCopies: readonly string[] = [],
): Promise<void> {
  const linked = await ctx.run('cp', ['-al', from, to], { stream: false, allowFailure: true });
  if (linked.code !== 0) {
    await rm(to, { recursive: true, force: true });
    await ctx.run('cp', ['-a', from, to], { stream: false });
    return;
  }
  for (const rel of ownCopies) {
    const file = join(to, rel);
    if (!(await lstat(file).catch(() => undefined))?.isFile()) continue;
    // Copy then rename: the layer's name now points at a new inode; the build dir keeps the old.
    await copyFile(file, `${file}.slipway-own`);
    await rename(`${file}.slipway-own`, file);
  }
}

/** True when no regular file under `dir` was modified after `since` (ms since the epoch). */
export async function untouchedSince(dir: string, since: number): Promise<boolean> {
  const walk = async (d: string): Promise<boolean> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = join(d, e.name);
      if (e.isDirectory()) {
        if (!(await walk(full))) return false;
      } else if (e.isFile() && (await lstat(full)).mtimeMs > since) return false;
    }
    return true;
  };
  return walk(dir);
}

/**
 * The save time to record with a layer: a millisecond ahead, since `Date.now()` truncates and a
 * file written in the same millisecond must not look newer than the save.
 */
export function savedNow(): number {
  return Date.now() + 1;
}
