/**
 * `resolveBuildpack`: one way to turn what a user types after `-b` (or lists in a config, or pins
 * with `buildpacks:add`) into a plugin: an installed id (`nodejs` → `@slipway/buildpack-nodejs`),
 * a directory (classic `bin/*` or a JS package), a JS file, an npm package name (installed, or
 * installed from the registry when asked: `npm:NAME[@VERSION]` or `@scope/name[@version]`), or a
 * git URL (cloned shallowly, cached).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isSlipwayError, loadPlugin, type Plugin } from '@slipway/core';
import { classicBuildpack } from './classic.js';
import { buildpackErrors } from './errors.js';

const execFileP = promisify(execFile);
const SHORT_ID = /^[a-z0-9][a-z0-9._-]*$/;

/** Options of `resolveBuildpack`. */
export interface ResolveBuildpackOptions {
  /** Where git buildpacks are cloned; default `$XDG_CACHE_HOME/slipway/buildpacks`. */
  cacheDir?: string;
  /** Clone (or install) again even when a copy is cached. */
  refresh?: boolean;
  /**
   * Install an npm package that is not installed (`npm:NAME[@VERSION]`, or a scoped
   * `@scope/name[@version]`) from the registry under this directory, one npm prefix per
   * specifier, without running its install scripts. Absent: only installed packages load.
   */
  npmPrefix?: string;
}

/** True for specifiers that name a git repository rather than a path or package. */
export function isGitUrl(specifier: string): boolean {
  return /^(git@|git\+|ssh:\/\/|git:\/\/)/.test(specifier) || /^(https?|file):\/\/.+/.test(specifier);
}

/** The default cache of cloned buildpacks. */
export function defaultBuildpackCache(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'slipway', 'buildpacks');
}

/** Shallow-clone `url` (`…/x.git#ref`) into the cache, once; returns the checkout. */
export async function cloneBuildpack(url: string, opts: ResolveBuildpackOptions = {}): Promise<string> {
  const [repo, ref] = url.replace(/^git\+/, '').split('#') as [string, string | undefined];
  const cache = opts.cacheDir ?? defaultBuildpackCache();
  // Named after the repository (so a classic buildpack's id reads `static-1f2e…`), made unique by the URL's hash.
  const base = basename(repo.replace(/\/+$/, ''))
    .replace(/\.git$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-');
  const dest = join(
    cache,
    `${base || 'buildpack'}-${createHash('sha256').update(url).digest('hex').slice(0, 16)}`,
  );
  if (existsSync(join(dest, '.git')) && !opts.refresh) return dest;
  await mkdir(cache, { recursive: true });
  // Clone beside the destination and rename, so a failed or concurrent clone never leaves half a checkout.
  const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
  const args = ['clone', '--depth', '1', ...(ref ? ['--branch', ref] : []), '--', repo, tmp];
  try {
    await execFileP('git', args, { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    const detail = String((e as { stderr?: string }).stderr || (e as Error).message)
      .trim()
      .split('\n')
      .at(-1);
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_GIT({ url, detail }, { cause: e });
  }
  await rm(dest, { recursive: true, force: true });
  await rename(tmp, dest).catch(async (e) => {
    // Another build won the race: use its clone.
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(join(dest, '.git'))) throw e;
  });
  return dest;
}

/** Load a directory: classic when it has bin/compile, a JS plugin package otherwise. */
async function fromDirectory(dir: string, specifier: string): Promise<Plugin> {
  if (existsSync(join(dir, 'bin', 'compile'))) return classicBuildpack(dir, { source: specifier });
  if (existsSync(join(dir, 'package.json'))) return loadPlugin(dir, dir);
  throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RESOLVE({
    specifier,
    detail: `${dir} has neither bin/compile (a classic buildpack) nor package.json (a JS buildpack)`,
  });
}

/** Try `loadPlugin` from each dir in turn; undefined when none finds the package. */
async function fromPackage(name: string, dirs: string[]): Promise<Plugin | undefined> {
  for (const dir of dirs) {
    try {
      return await loadPlugin(name, dir);
    } catch (e) {
      if (
        !isSlipwayError(e, 'SLIPWAY_ERR_PLUGIN_NOT_FOUND') ||
        !/Cannot find (module|package)/.test(e.message)
      )
        throw e;
    }
  }
  return undefined;
}

/** The package name of an npm specifier to install, or undefined when it is not one. */
function npmPackageName(specifier: string): string | undefined {
  const spec = specifier.replace(/^npm:/, '');
  if (spec === specifier && !spec.startsWith('@')) return undefined;
  const at = spec.indexOf('@', 1);
  const name = at > 0 ? spec.slice(0, at) : spec;
  return /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/.test(name) ? name : undefined;
}

/** `npm install` one specifier into its own prefix under `npmPrefix`, once; returns that prefix. */
async function installPackage(specifier: string, npmPrefix: string, refresh: boolean): Promise<string> {
  const spec = specifier.replace(/^npm:/, '');
  const name = npmPackageName(specifier) as string;
  const dir = join(npmPrefix, createHash('sha256').update(spec).digest('hex').slice(0, 16));
  if (existsSync(join(dir, 'node_modules', name, 'package.json')) && !refresh) return dir;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), '{ "private": true }\n');
  try {
    // No install scripts: a buildpack's code runs in the build, not while it is fetched.
    await execFileP('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--', spec], {
      cwd: dir,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
  } catch (e) {
    const lines = String((e as { stderr?: string }).stderr || (e as Error).message)
      .split('\n')
      .filter((l) => /npm (error|ERR!)/.test(l) && !/A complete log|npm error\s*$/.test(l));
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_NPM(
      { spec, detail: lines.slice(0, 2).join(' / ') || (e as Error).message },
      { cause: e },
    );
  }
  return dir;
}

/** Turn an id, path, package name or git URL into a buildpack plugin (see the module comment). */
export async function resolveBuildpack(
  specifier: string,
  fromDir: string,
  opts: ResolveBuildpackOptions = {},
): Promise<Plugin> {
  if (isGitUrl(specifier)) return fromDirectory(await cloneBuildpack(specifier, opts), specifier);
  const expanded = specifier.startsWith('~/') ? join(homedir(), specifier.slice(2)) : specifier;
  const asPath = resolve(fromDir, expanded);
  const looksLikePath = expanded.startsWith('.') || isAbsolute(expanded);
  if (looksLikePath || (existsSync(asPath) && !SHORT_ID.test(specifier))) {
    if (!existsSync(asPath))
      throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RESOLVE({ specifier, detail: `${asPath} does not exist` });
    return statSync(asPath).isDirectory() ? fromDirectory(asPath, specifier) : loadPlugin(asPath, fromDir);
  }
  // Packages resolve from the app's dir first, then from beside the SDK (where the CLI's first-party buildpacks live).
  const sdkDir = dirname(fileURLToPath(import.meta.url));
  const names = SHORT_ID.test(specifier) ? [`@slipway/buildpack-${specifier}`, specifier] : [specifier];
  const npmName = npmPackageName(specifier);
  if (npmName && !opts.refresh) {
    const plugin = await fromPackage(npmName, [fromDir, sdkDir]);
    if (plugin) return plugin;
  }
  if (npmName && opts.npmPrefix) {
    const dir = await installPackage(specifier, opts.npmPrefix, opts.refresh === true);
    const plugin = await fromPackage(npmName, [dir]);
    if (plugin) return plugin;
  }
  for (const name of names) {
    const plugin = await fromPackage(name, [fromDir, sdkDir]);
    if (plugin) return plugin;
  }
  throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RESOLVE({
    specifier,
    detail: `no package ${names.join(' or ')} is installed, and it is not a path or git URL`,
  });
}
