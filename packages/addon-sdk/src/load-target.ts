/**
 * Find what `slipway addon:test <package-or-path>` should check: a module whose default export
 * (or `addon` export) is a `defineAddon` plugin or a bare definition, found by path or by package
 * name from a directory's node_modules; or a manifest .json. With a URL, the target becomes the
 * remote partner API server that serves that manifest.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConformanceTarget } from './conformance.js';
import { isAddonPlugin } from './define-addon.js';
import { manifestOf } from './definition.js';
import { addonErrors } from './errors.js';
import { type AddonManifest, validateManifest } from './manifest.js';

/** How to load a conformance target. */
export interface LoadTargetOptions {
  /** Where relative paths and package names are resolved from; default process.cwd(). */
  cwd?: string;
  /** Partner API base URL: test the remote server instead of running the provider in-process. */
  url?: string;
  /** Partner API password (default the manifest's `api.password`). */
  password?: string;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** The entry module of a package directory (exports ".", then main, then index.js). */
async function entryOf(dir: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  let e = pkg.exports;
  if (e && typeof e === 'object' && '.' in e) e = e['.'];
  while (e && typeof e === 'object') e = e.import ?? e.default ?? e.node;
  return join(dir, typeof e === 'string' ? e : (pkg.main ?? 'index.js'));
}

/** The directory of package `name` as node_modules resolution from `cwd` finds it. */
async function packageDir(name: string, cwd: string): Promise<string | undefined> {
  for (let d = cwd; ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', name);
    if (await exists(join(candidate, 'package.json'))) return candidate;
    if (dirname(d) === d) return undefined;
  }
}

/** Resolve `spec` to a conformance target. */
export async function loadConformanceTarget(
  spec: string,
  opts: LoadTargetOptions = {},
): Promise<ConformanceTarget> {
  const cwd = opts.cwd ?? process.cwd();
  const fail = (detail: string, cause?: unknown) =>
    addonErrors.SLIPWAY_ERR_ADDON_LOAD({ spec, detail }, cause === undefined ? {} : { cause });
  const asPath = isAbsolute(spec) || spec.startsWith('.') ? resolve(cwd, spec) : undefined;
  let file: string | undefined;
  let manifest: AddonManifest | undefined;
  let target: ConformanceTarget | undefined;
  if (asPath && !(await exists(asPath))) throw fail(`${asPath} does not exist`);
  if (asPath?.endsWith('.json')) {
    try {
      manifest = validateManifest(JSON.parse(await readFile(asPath, 'utf8')), asPath);
    } catch (e) {
      if ((e as { code?: string }).code === 'SLIPWAY_ERR_ADDON_MANIFEST') throw e;
      throw fail(`cannot read the manifest: ${(e as Error).message}`, e);
    }
  } else if (asPath) {
    file = (await stat(asPath)).isDirectory() ? await entryOf(asPath) : asPath;
  } else {
    const dir = await packageDir(spec, cwd);
    if (!dir) throw fail(`no package ${spec} is installed in ${cwd} or above (npm install ${spec})`);
    file = await entryOf(dir);
  }
  if (file) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (e) {
      throw fail(`importing ${file} failed: ${(e as Error).message}`, e);
    }
    const x = mod.default ?? mod.addon;
    if (isAddonPlugin(x)) target = x;
    else if (x && typeof x === 'object' && typeof (x as { provision?: unknown }).provision === 'function')
      target = x as ConformanceTarget;
    else throw fail(`${file} has no default export made with defineAddon(...)`);
    manifest = isAddonPlugin(target) ? target.manifest : manifestOf(target as never);
  }
  if (!opts.url) {
    if (!target) throw fail('a manifest alone can only be tested against a server: pass --url');
    return target;
  }
  const password = opts.password ?? manifest!.api.password;
  if (!password) throw fail('the remote server needs a password: pass --password or set api.password');
  return { url: opts.url, manifest: manifest!, password };
}
