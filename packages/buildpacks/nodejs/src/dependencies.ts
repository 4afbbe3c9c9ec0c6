/**
 * Installing dependencies with a digest-keyed cache: `node_modules` is kept in the cache dir
 * under a digest of the Node.js version, the package manager and the lockfile, and restored
 * instead of reinstalling while that digest holds. Anything that changes it reinstalls.
 */
import { createHash } from 'node:crypto';
import { copyFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildpackCompileContext, CacheLayer } from '@slipway/buildpack-sdk';
import { linkCopy, REWRITTEN_IN_PLACE, savedNow, untouchedSince } from './layer-copy.js';
import { dependencyFingerprint, type PackageJson } from './package-json.js';
import {
  downloadCacheEnv,
  INSTALL_CONFIG_FILES,
  installArgs,
  isYarnBerry,
  type PackageManagerChoice,
  pruneArgs,
} from './package-manager.js';
import { listTree, removedPaths, replayRemovals } from './prune-replay.js';
import { firstErrorLine, type PackageManagerRunner } from './toolchain.js';

/** Bump to invalidate every cached node_modules after a change in how they are made. */
const CACHE_FORMAT = 1;

/** Everything that decides what an install produces. */
export interface InstallInputs {
  node: string;
  runner: Pick<PackageManagerRunner, 'name' | 'version'>;
  lockfileText: string | undefined;
  pkg: PackageJson;
  configFiles: Record<string, string>;
}

/** The cache digest of an install: equal digests mean an identical node_modules. */
export function installDigest(inputs: InstallInputs): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify({
      format: CACHE_FORMAT,
      node: inputs.node,
      arch: process.arch,
      platform: process.platform,
      pm: `${inputs.runner.name}@${inputs.runner.version}`,
      lockfile: inputs.lockfileText === undefined ? null : sha256(inputs.lockfileText),
      deps: dependencyFingerprint(inputs.pkg),
      config: inputs.configFiles,
    }),
  );
  return h.digest('hex');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Read the files that feed the digest besides package.json. */
export async function readInstallConfig(ctx: BuildpackCompileContext): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of INSTALL_CONFIG_FILES) {
    const text = await ctx.readText(f);
    if (text !== undefined) out[f] = sha256(text);
  }
  return out;
}

/** Run a package manager command, turning a failure into one line of cause and a fix. */
export async function runPackageManager(
  ctx: BuildpackCompileContext,
  runner: PackageManagerRunner,
  args: string[],
  what: string,
  hint: string,
  env: Record<string, string> = {},
): Promise<void> {
  const r = await ctx.run(runner.command, [...runner.prefix, ...args], {
    env: { ...runner.env, ...env },
    allowFailure: true,
  });
  if (r.code === 0) return;
  // The lines that name the package beat npm's generic `npm error code E404`.
  const output = (r.stderr + r.stdout)
    .split(/\r?\n/)
    .filter((l) => !/^npm (error|ERR!) (code |errno |A complete log|$)/.test(l))
    .join('\n');
  const cause = firstErrorLine(output, [
    /is not in this registry|Couldn't find package|ERR_PNPM_FETCH_404/i,
    /No matching version|notarget|ERR_PNPM_NO_MATCHING_VERSION/i,
    /404 Not Found/i,
    /ERR_PNPM_\w+/,
    /EUSAGE|lockfile|out of sync|frozen/i,
    /^(npm error|npm ERR!|error|ERR_)/i,
  ]);
  ctx.fail(`${what} failed (${runner.name} exited with code ${r.code}): ${cause ?? 'no error output'}`, hint);
}

/** What `installDependencies` did, and the layer that holds node_modules. */
export interface InstallOutcome {
  layer: CacheLayer;
  restored: boolean;
  /** What the layer records (restored, or just saved). */
  metadata: Record<string, unknown>;
}

/** Layer metadata a pruning npm build records, so warm builds can replay it. */
interface PruneRecord {
  prune?: { removed: string[] };
}

/** Install hint per failure kind: what the user should change. */
const INSTALL_HINT =
  'Check that every dependency in package.json exists in the registry at the version asked for, update the lockfile with your package manager (e.g. `npm install`) and commit it.';

/**
 * Make `node_modules` in the build dir hold every dependency (dev included): restored from the
 * cache when the digest matches, installed (and cached) otherwise.
 */
export async function installDependencies(
  ctx: BuildpackCompileContext,
  runner: PackageManagerRunner,
  choice: PackageManagerChoice,
  digest: string,
): Promise<InstallOutcome> {
  const modulesDir = join(ctx.buildDir, 'node_modules');
  const usesPnp = runner.name === 'yarn' && isYarnBerry(runner.version);
  const layer = await ctx.cacheLayer('node_modules', usesPnp ? `${digest}-pnp` : digest);
  const cached = join(layer.dir, 'node_modules');
  const savedAt = Number(layer.metadata.savedAt);
  const present = layer.hit && (await dirExists(cached));
  const usable = present && !usesPnp && (await untouchedSince(cached, savedAt || 0));
  if (present && !usable)
    ctx.log.info('The cached node_modules was changed after it was saved (a build step edits it in place)');
  if (usable) {
    ctx.log.step('Restoring cached dependencies');
    ctx.log.info(`Using cached node_modules (Node.js and ${choice.lockfile ?? 'package.json'} unchanged)`);
    await rm(modulesDir, { recursive: true, force: true });
    await ctx.run('cp', ['-a', cached, modulesDir], { stream: false });
    return { layer, restored: true, metadata: layer.metadata };
  }

  ctx.log.step('Installing dependencies');
  if (!choice.lockfile)
    ctx.log.warn(
      `No lockfile found: installing from package.json ranges. Commit your ${runner.name} lockfile for repeatable builds.`,
    );
  ctx.log.info(
    `Installing with ${runner.name} ${runner.version}${choice.lockfile ? ` from ${choice.lockfile}` : ''}`,
  );
  const downloads = await ctx.cacheLayer(`${runner.name}-cache`, `format-${CACHE_FORMAT}`);
  if (downloads.hit) ctx.log.info(`Using cached ${runner.name} downloads`);
  await runPackageManager(
    ctx,
    runner,
    installArgs(runner.name, runner.version, choice.lockfile !== undefined),
    'Installing dependencies',
    INSTALL_HINT,
    { ...downloadCacheEnv(runner.name, downloads.dir), NODE_ENV: 'development' },
  );
  await downloads.save();
  if (!usesPnp && (await dirExists(modulesDir))) {
    // Taken before build scripts run, so the cache never holds build output; a build script
    // that rewrites a file in place is caught by the mtime check on the next restore.
    await rm(cached, { recursive: true, force: true });
    await linkCopy(ctx, modulesDir, cached, REWRITTEN_IN_PLACE);
    const metadata = { packageManager: `${runner.name}@${runner.version}`, savedAt: savedNow() };
    await layer.save(metadata);
    return { layer, restored: false, metadata };
  }
  // Plug'n'Play or no dependencies: nothing to restore, so the next build installs again.
  const metadata = { noNodeModules: true };
  await layer.save(metadata);
  return { layer, restored: false, metadata };
}

/** Remove dev dependencies from the slug; warns when the package manager cannot. */
export async function pruneDevDependencies(
  ctx: BuildpackCompileContext,
  runner: PackageManagerRunner,
  choice: PackageManagerChoice,
  install: InstallOutcome,
): Promise<void> {
  const args = pruneArgs(runner.name, runner.version, choice.lockfile !== undefined);
  if (!args) {
    ctx.log.warn(`Skipping pruning: ${runner.name} ${runner.version} has no production-only install.`);
    return;
  }
  ctx.log.step('Pruning devDependencies');
  const modulesDir = join(ctx.buildDir, 'node_modules');
  const lockCopy = join(install.layer.dir, 'pruned-package-lock.json');
  const record = (install.metadata as PruneRecord).prune;
  // Only npm's prune is a pure deletion plus its hidden lockfile; other managers rewrite state.
  const replayable = runner.name === 'npm' && choice.lockfile !== undefined;
  if (replayable && install.restored && record && (await fileExists(lockCopy))) {
    await replayRemovals(modulesDir, record.removed);
    await copyFile(lockCopy, join(modulesDir, '.package-lock.json'));
    ctx.log.info(`Removed ${record.removed.length} dev-only path(s) recorded by the first build (cached)`);
    return;
  }
  const before = replayable ? await listTree(modulesDir) : undefined;
  const downloads = join(ctx.cacheDir, `${runner.name}-cache`);
  await runPackageManager(
    ctx,
    runner,
    args,
    'Pruning devDependencies',
    'Pruning runs the package manager offline against the installed tree; rebuild with a fresh cache if it keeps failing.',
    { ...downloadCacheEnv(runner.name, downloads), NODE_ENV: 'production' },
  );
  if (before && (await fileExists(join(modulesDir, '.package-lock.json')))) {
    const removed = removedPaths(before, await listTree(modulesDir));
    await copyFile(join(modulesDir, '.package-lock.json'), lockCopy);
    await install.layer.save({ ...install.metadata, prune: { removed } });
  }
}

async function fileExists(abs: string): Promise<boolean> {
  return (await stat(abs).catch(() => undefined))?.isFile() ?? false;
}

async function dirExists(abs: string): Promise<boolean> {
  return (await stat(abs).catch(() => undefined))?.isDirectory() ?? false;
}
