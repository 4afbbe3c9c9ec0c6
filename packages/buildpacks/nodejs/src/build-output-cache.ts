/**
 * The build-output cache: when the app's source, its installed dependencies (the install
 * digest) and its config vars are all what the last build saw, that build's result is reused
 * whole instead of running the build script and pruning again. Build scripts are assumed to be
 * functions of those inputs, as every build cache (and Heroku's own cache) assumes.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildpackCompileContext, CacheLayer } from '@slipway/buildpack-sdk';
import { linkCopy, savedNow, untouchedSince } from './layer-copy.js';

/** Bump to invalidate cached outputs after a change in how a build is made. */
const OUTPUT_FORMAT = 1;

/**
 * A digest of every path under `root` (names, modes, file contents, link targets), in a stable
 * order, skipping the top-level entries in `skip` (e.g. node_modules, which the install digest
 * already covers).
 */
export async function treeDigest(root: string, skip: readonly string[] = []): Promise<string> {
  const h = createHash('sha256');
  const walk = async (dir: string, rel: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      if (!rel && skip.includes(name)) continue;
      const full = join(dir, name);
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(full);
      if (st.isSymbolicLink()) h.update(`L\0${path}\0${await readlink(full)}\0`);
      else if (st.isDirectory()) {
        h.update(`D\0${path}\0${st.mode & 0o777}\0`);
        await walk(full, path);
      } else if (st.isFile()) {
        h.update(`F\0${path}\0${st.mode & 0o777}\0${st.size}\0`);
        h.update(await readFile(full));
      }
    }
  };
  await walk(root, '');
  return h.digest('hex');
}

/** The digest of one build's inputs: source tree, install digest, config vars and stack. */
export function outputDigest(parts: {
  source: string;
  install: string;
  env: Readonly<Record<string, string>>;
  stack: string;
}): string {
  const env = Object.entries(parts.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256')
    .update(JSON.stringify({ format: OUTPUT_FORMAT, ...parts, env }))
    .digest('hex');
}

/** Open the output layer for `digest`; restores the build dir and returns true on a hit. */
export async function restoreOutput(
  ctx: BuildpackCompileContext,
  digest: string,
): Promise<{ hit: boolean; layer: CacheLayer }> {
  const layer = await ctx.cacheLayer('build-output', digest);
  const saved = join(layer.dir, 'app');
  if (!layer.hit || !(await lstat(saved).catch(() => undefined))) return { hit: false, layer };
  // A later buildpack may have rewritten a file in place in the linked copy: then rebuild.
  if (!(await untouchedSince(saved, Number(layer.metadata.savedAt) || 0))) return { hit: false, layer };
  ctx.log.step('Restoring cached build');
  ctx.log.info('Source, dependencies and config vars are unchanged since the last build: reusing its output');
  for (const name of await readdir(ctx.buildDir))
    await rm(join(ctx.buildDir, name), { recursive: true, force: true });
  await ctx.run('cp', ['-a', `${saved}/.`, `${ctx.buildDir}/`], { stream: false });
  return { hit: true, layer };
}

/**
 * Keep the finished build dir in the output layer for the next build, without the paths in
 * `skip` (kept in layers of their own, such as a downloaded Node.js, and put back after a restore).
 */
export async function saveOutput(
  ctx: BuildpackCompileContext,
  layer: CacheLayer,
  skip: readonly string[] = [],
): Promise<void> {
  const saved = join(layer.dir, 'app');
  await rm(saved, { recursive: true, force: true });
  await linkCopy(ctx, ctx.buildDir, saved, ['node_modules/.package-lock.json']);
  for (const rel of skip) await rm(join(saved, rel), { recursive: true, force: true });
  await layer.save({ savedAt: savedNow() });
}
