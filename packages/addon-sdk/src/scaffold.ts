/**
 * `scaffoldAddon`: render the nunjucks templates in `templates/addon/` into a new provider
 * package in TypeScript, shaped like `examples/addon-mariadb` (provider, plugin, partner-API
 * service, manifest, tests beside the code, README sections): a working key/value bucket
 * provider whose tests run the conformance kit and the partner API.
 * The package depends on this SDK by a semver range of its version, so it can be published as it
 * is; inside the Slipway monorepo (a workspace) npm links the SDK.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configPrefix } from '@slipway/core';
import nunjucks from 'nunjucks';
import { addonErrors } from './errors.js';

/** What to scaffold. */
export interface ScaffoldAddonOptions {
  /** npm package name: `acme-memcached`, `@acme/addon-memcached`. */
  name: string;
  /** Directory to create (must not exist or be empty). */
  dir: string;
  /** Add-on id; default the name without scope and `addon-` prefix (`memcached`). */
  id?: string;
  /** Dependency spec for @slipway/addon-sdk; default `^<this SDK's version>`. */
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

/** Tool versions the new package uses: the checkout's own when there is one, else known-good ranges. */
function toolVersions(): Record<string, string> {
  const fallback: Record<string, string> = {
    mocha: '^11.0.0',
    chai: '^5.0.0',
    typescript: '~5.9.3',
    '@types/node': '^20.19.0',
    '@types/mocha': '^10.0.10',
    '@types/chai': '^5.2.3',
  };
  let dev: Record<string, string> = {};
  try {
    dev =
      JSON.parse(readFileSync(join(PACKAGE_ROOT, '..', '..', 'package.json'), 'utf8')).devDependencies ?? {};
  } catch {
    // installed from npm: no checkout around it
  }
  const pick = (name: string) => dev[name] ?? (fallback[name] as string);
  return {
    mocha: pick('mocha'),
    chai: pick('chai'),
    typescript: pick('typescript'),
    typesNode: pick('@types/node'),
    typesMocha: pick('@types/mocha'),
    typesChai: pick('@types/chai'),
  };
}

/** `^<version>`: a `file:` path would survive `npm pack` and break every install elsewhere. */
function defaultSdkDependency(): string {
  const own = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return `^${own.version}`;
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
  const words = id.split('-');
  const title = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join(' ');
  const typeName = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  const vars = {
    name,
    id,
    title,
    /** `my-kv` → `myKv`: prefix of the generated identifiers (`myKvDefinition`). */
    camel: typeName[0]!.toLowerCase() + typeName.slice(1),
    typeName,
    binName: `slipway-addon-${id}`,
    prefix: configPrefix(id),
    sdkDependency: opts.sdkDependency ?? defaultSdkDependency(),
    versions: toolVersions(),
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
