/**
 * `scaffoldAddon`: render the nunjucks templates in `templates/addon/` into a new provider
 * package — a working key/value bucket provider, a test that runs the conformance kit, a README.
 * Generated from a checkout of Slipway, the package depends on this SDK by `file:` path, so
 * `npm install && npm test` works before anything is published.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import { addonErrors } from './errors.js';
import { configPrefix } from './manifest.js';

/** What to scaffold. */
export interface ScaffoldAddonOptions {
  /** npm package name: `acme-memcached`, `@acme/addon-memcached`. */
  name: string;
  /** Directory to create (must not exist or be empty). */
  dir: string;
  /** Add-on id; default the name without scope and `addon-` prefix (`memcached`). */
  id?: string;
  /** Dependency spec for @slipway/addon-sdk; default `file:` this SDK in a checkout, else `^version`. */
  sdkDependency?: string;
}

/** What was written. */
export interface ScaffoldAddonResult {
  dir: string;
  id: string;
  /** Paths relative to `dir`. */
  files: string[];
}

const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
const TEMPLATES = join(PACKAGE_ROOT, 'templates', 'addon');

/** Files whose names npm would mangle on publish are stored without their dot. */
const RENAMES: Record<string, string> = { gitignore: '.gitignore' };

function rootVersions(): { mocha: string; chai: string } {
  const fallback = { mocha: '^11.0.0', chai: '^5.0.0' };
  try {
    const root = JSON.parse(readFileSync(join(PACKAGE_ROOT, '..', '..', 'package.json'), 'utf8'));
    return {
      mocha: root.devDependencies?.mocha ?? fallback.mocha,
      chai: root.devDependencies?.chai ?? fallback.chai,
    };
  } catch {
    return fallback;
  }
}

function defaultSdkDependency(): string {
  const own = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  // Installed from npm the SDK sits in node_modules; anywhere else it is a checkout.
  return PACKAGE_ROOT.split(sep).includes('node_modules')
    ? `^${own.version}`
    : `file:${PACKAGE_ROOT.replace(/\/$/, '')}`;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out.sort();
}

/** Create a new add-on provider package. */
export async function scaffoldAddon(opts: ScaffoldAddonOptions): Promise<ScaffoldAddonResult> {
  const { name } = opts;
  const dir = resolve(opts.dir);
  const fail = (detail: string) => addonErrors.SLIPWAY_ERR_ADDON_SCAFFOLD({ name, dir, detail });
  if (!/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/.test(name))
    throw fail('it is not a valid npm package name');
  const id =
    opts.id ??
    name
      .replace(/^@[^/]+\//, '')
      .replace(/^(slipway-)?addon-/, '')
      .replace(/[._]/g, '-');
  if (!/^[a-z][a-z0-9-]*$/.test(id))
    throw fail(`the add-on id "${id}" must match ^[a-z][a-z0-9-]*$ (pass id)`);
  const existing = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw fail(e.message);
  });
  if (existing.length) throw fail('the directory is not empty');
  const versions = rootVersions();
  const title = id
    .split('-')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
  const vars = {
    name,
    id,
    title,
    prefix: configPrefix(id),
    sdkDependency: opts.sdkDependency ?? defaultSdkDependency(),
    mochaVersion: versions.mocha,
    chaiVersion: versions.chai,
  };
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  const files: string[] = [];
  for (const src of await walk(TEMPLATES)) {
    let rel = relative(TEMPLATES, src);
    const base = rel.split(sep).pop()!;
    if (RENAMES[base]) rel = join(dirname(rel), RENAMES[base]);
    const isTemplate = rel.endsWith('.njk');
    if (isTemplate) rel = rel.slice(0, -4);
    const text = await readFile(src, 'utf8');
    const out = isTemplate ? env.renderString(text, vars) : text;
    const dest = join(dir, rel);
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, out, { mode: (await stat(src)).mode & 0o777 });
    files.push(rel);
  }
  return { dir, id, files };
}
