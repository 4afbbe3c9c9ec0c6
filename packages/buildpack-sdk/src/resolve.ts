/**
 * `resolveBuildpack`: one way to turn what a user types after `-b` (or lists in a config, or pins
 * with `buildpacks:add`) into a plugin: an installed id (`nodejs` → `@slipway/buildpack-nodejs`),
 * a directory (classic `bin/*` or a JS package), a JS file, a packed package (`npm pack`'s
 * `.tgz`, installed into its own prefix), an npm package name (installed, or
 * installed from the registry when asked: `npm:NAME[@VERSION]` or `@scope/name[@version]`), or a
 * git URL (cloned shallowly, cached).
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isSlipwayError, loadPlugin, type Plugin } from '@slipway/core';
import { classicBuildpack, classicIdFor } from './classic.js';
import { buildpackErrors } from './errors.js';

const execFileP = promisify(execFile);
const SHORT_ID = /^[a-z0-9][a-z0-9._-]*$/;
/** What `npm pack` writes. */
const TARBALL = /\.(tgz|tar\.gz)$/;

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

/** The commit `ref` (default HEAD) names on the remote now, or undefined when it cannot be asked. */
async function remoteCommit(repo: string, ref: string | undefined): Promise<string | undefined> {
  try {
    const { stdout } = await execFileP('git', ['ls-remote', '--', repo, ref ?? 'HEAD'], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
    return /^([0-9a-f]{40,64})\s/m.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

/** Checkouts of one URL, newest first. */
async function checkoutsOf(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const found = names
    .filter((n) => /^[0-9a-f]{40,64}$/.test(n) && existsSync(join(dir, n, '.git')))
    .map((n) => ({ path: join(dir, n), at: statSync(join(dir, n)).mtimeMs }));
  return found.sort((a, b) => b.at - a.at).map((c) => c.path);
}

/** Where the checkouts of `url` live: `<cache>/<repo>-<hash of url>`; its name is the classic buildpack's id. */
function checkoutRoot(url: string, repo: string, cache: string): string {
  const base = basename(repo.replace(/\/+$/, ''))
    .replace(/\.git$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-');
  return join(cache, `${base || 'buildpack'}-${createHash('sha256').update(url).digest('hex').slice(0, 16)}`);
}

/**
 * Shallow-clone `url` (`…/x.git#ref`) into the cache; returns the checkout. As Heroku fetches a
 * buildpack URL at every build, the remote is asked (`git ls-remote`) which commit the ref names
 * now, and there is one checkout per commit: a new commit is cloned beside the old ones, so a
 * build still running from an older checkout never sees it replaced. When the remote cannot be
 * reached, the newest checkout is used.
 */
export async function cloneBuildpack(url: string, opts: ResolveBuildpackOptions = {}): Promise<string> {
  const [repo, ref] = url.replace(/^git\+/, '').split('#') as [string, string | undefined];
  const root = checkoutRoot(url, repo, opts.cacheDir ?? defaultBuildpackCache());
  if (!opts.refresh) {
    const commit = await remoteCommit(repo, ref);
    if (commit && existsSync(join(root, commit, '.git'))) return join(root, commit);
    const newest = (await checkoutsOf(root))[0];
    if (!commit && newest) return newest;
  }
  await mkdir(root, { recursive: true });
  // Clone beside the destination and rename, so a failed or concurrent clone never leaves half a checkout.
  const tmp = join(root, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const args = ['clone', '--quiet', '--depth', '1', ...(ref ? ['--branch', ref] : []), '--', repo, tmp];
  let dest: string;
  try {
    await execFileP('git', args, { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    dest = join(root, (await execFileP('git', ['-C', tmp, 'rev-parse', 'HEAD'])).stdout.trim());
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    const detail = String((e as { stderr?: string }).stderr || (e as Error).message)
      .trim()
      .split('\n')
      .at(-1);
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_GIT({ url, detail }, { cause: e });
  }
  await rename(tmp, dest).catch(async (e) => {
    // Another build cloned the same commit first: use its checkout.
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(join(dest, '.git'))) throw e;
  });
  // Older commits go once no build can still be using them (a build lasts 25 min at most).
  for (const old of (await checkoutsOf(root)).slice(1))
    if (Date.now() - statSync(old).mtimeMs > 60 * 60_000) await rm(old, { recursive: true, force: true });
  return dest;
}

/** Load a directory: classic when it has bin/compile, a JS plugin package otherwise. */
async function fromDirectory(dir: string, specifier: string, id?: string): Promise<Plugin> {
  if (existsSync(join(dir, 'bin', 'compile')))
    return classicBuildpack(dir, { source: specifier, ...(id ? { id } : {}) });
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

/**
 * `npm install` one specifier into its own prefix under `npmPrefix`, once; returns that prefix.
 * Installed beside it and renamed into place, so a killed or concurrent install never leaves a
 * half-installed package that later builds would take for a whole one.
 */
async function installPackage(
  specifier: string,
  npmPrefix: string,
  refresh: boolean,
  /** Part of the prefix's name beside the specifier (a tarball's digest: repacked, it installs anew). */
  version = '',
): Promise<string> {
  const spec = specifier.replace(/^npm:/, '');
  const dir = join(npmPrefix, createHash('sha256').update(`${spec}\0${version}`).digest('hex').slice(0, 16));
  if (existsSync(join(dir, 'package.json')) && !refresh) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(tmp, { recursive: true });
  await writeFile(join(tmp, 'package.json'), '{ "private": true }\n');
  try {
    // No install scripts: a buildpack's code runs in the build, not while it is fetched.
    await execFileP('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--', spec], {
      cwd: tmp,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    const lines = String((e as { stderr?: string }).stderr || (e as Error).message)
      .split('\n')
      .filter((l) => /npm (error|ERR!)/.test(l) && !/A complete log|npm error\s*$/.test(l));
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_NPM(
      { spec, detail: lines.slice(0, 2).join(' / ') || (e as Error).message },
      { cause: e },
    );
  }
  if (refresh) await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir).catch(async (e) => {
    // Another build installed the same specifier first: use its copy.
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, 'package.json'))) throw e;
  });
  return dir;
}

/**
 * A packed package (`npm pack`'s .tgz): installed with its dependencies into a prefix of its own
 * (keyed on the tarball's digest, so a repacked one installs anew), then loaded by the name npm
 * recorded for it.
 */
async function fromTarball(file: string, specifier: string, opts: ResolveBuildpackOptions): Promise<Plugin> {
  if (!opts.npmPrefix)
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RESOLVE({
      specifier,
      detail:
        'a packed buildpack is installed before it loads, and no install directory was given (npmPrefix)',
    });
  const digest = createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
  const dir = await installPackage(`file:${file}`, opts.npmPrefix, opts.refresh === true, digest);
  const deps = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')).dependencies ?? {};
  const [name] = Object.keys(deps);
  const plugin = name ? await fromPackage(name, [dir]) : undefined;
  if (!plugin)
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RESOLVE({
      specifier,
      detail: `npm installed ${name ?? 'nothing'} from it, and it does not load as a buildpack package`,
    });
  return plugin;
}

/** Turn an id, path, package name or git URL into a buildpack plugin (see the module comment). */
export async function resolveBuildpack(
  specifier: string,
  fromDir: string,
  opts: ResolveBuildpackOptions = {},
): Promise<Plugin> {
  if (isGitUrl(specifier)) {
    // The id stays the same across the buildpack's commits, so its build cache does too.
    const checkout = await cloneBuildpack(specifier, opts);
    return fromDirectory(checkout, specifier, classicIdFor(dirname(checkout)));
  }
  const expanded = specifier.startsWith('~/') ? join(homedir(), specifier.slice(2)) : specifier;
  const asPath = resolve(fromDir, expanded);
  const looksLikePath = expanded.startsWith('.') || isAbsolute(expanded);
  if (looksLikePath || (existsSync(asPath) && !SHORT_ID.test(specifier))) {
    if (!existsSync(asPath))
      throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RESOLVE({ specifier, detail: `${asPath} does not exist` });
    if (statSync(asPath).isDirectory()) return fromDirectory(asPath, specifier);
    return TARBALL.test(asPath) ? fromTarball(asPath, specifier, opts) : loadPlugin(asPath, fromDir);
  }
  // Packages resolve from the app's dir first, then from beside the SDK (where the CLI's first-party buildpacks live).
  const sdkDir = dirname(fileURLToPath(import.meta.url));
  const names = SHORT_ID.test(specifier) ? [`@slipway/buildpack-${specifier}`, specifier] : [specifier];
  const npmName = npmPackageName(specifier);
  // A version asked for is installed as asked, even when another version is installed here.
  const versioned = npmName !== undefined && specifier.replace(/^npm:/, '') !== npmName;
  if (npmName && !opts.refresh && !versioned) {
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
