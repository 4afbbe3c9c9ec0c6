/**
 * `scaffoldBuildpack`: render the nunjucks templates in `templates/buildpack/` into a complete,
 * tested buildpack package. It depends on this SDK by a semver range of the SDK's version, so it
 * can be published as it is; inside the Slipway monorepo (a workspace) npm links the SDK.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import { buildpackErrors } from './errors.js';

const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

/** Options of `scaffoldBuildpack`. */
export interface ScaffoldBuildpackOptions {
  /** npm package name: `acme-static`, `@acme/buildpack-rust`. The buildpack id is derived from it. */
  name: string;
  /** Directory to create (must be new or empty). */
  dir: string;
  /** Buildpack id; default the name without scope and `buildpack-` prefix. */
  id?: string;
  /** Dependency spec for the SDK; default `^<this SDK's version>`. */
  sdkDependency?: string;
}

/** What `scaffoldBuildpack` wrote. */
export interface ScaffoldResult {
  dir: string;
  id: string;
  packageName: string;
  /** Files written, relative to `dir`. */
  files: string[];
}

const sdkRoot = fileURLToPath(new URL('..', import.meta.url));
const templatesDir = join(sdkRoot, 'templates', 'buildpack');

/**
 * How a new package depends on this SDK: `^<version>`, never a `file:` path, which `npm pack`
 * would keep and no one else could install.
 */
export function sdkDependencySpec(): string {
  const { version } = JSON.parse(readFileSync(join(sdkRoot, 'package.json'), 'utf8')) as { version: string };
  return `^${version}`;
}

/** `@acme/buildpack-rust` → `rust`, `acme-static` → `acme-static`. */
export function buildpackIdFromName(name: string): string {
  return name.replace(/^@[^/]+\//, '').replace(/^(slipway-)?buildpack-/, '');
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(full)));
    else out.push(full);
  }
  return out;
}

/** Create a buildpack package in `dir` from the SDK's templates. */
export async function scaffoldBuildpack(opts: ScaffoldBuildpackOptions): Promise<ScaffoldResult> {
  const dir = resolve(opts.dir);
  const fail = (detail: string) => buildpackErrors.SLIPWAY_ERR_BUILDPACK_SCAFFOLD({ dir, detail });
  if (!PACKAGE_NAME.test(opts.name))
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_NAME({
      what: 'package name',
      name: opts.name,
      detail: 'npm names are lower-case, e.g. acme-static or @acme/buildpack-rust',
    });
  const id = opts.id ?? buildpackIdFromName(opts.name);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id))
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_NAME({
      what: 'buildpack id',
      name: id,
      detail: 'it must be lower-case',
    });
  if (existsSync(dir)) {
    if (!(await stat(dir)).isDirectory()) throw fail('it is a file');
    if ((await readdir(dir)).length) throw fail('it is not empty');
  }
  // A static-site buildpack claims index.html; any other gets a marker file named after it.
  const marker = /static|html|site/.test(id) ? 'index.html' : `.${id}`;
  const title = id
    .split(/[-_.]/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
  const vars = {
    packageName: opts.name,
    id,
    title,
    marker,
    sdkDependency: opts.sdkDependency ?? sdkDependencySpec(),
  };
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(templatesDir), {
    autoescape: false,
    throwOnUndefined: true,
  });
  const files: string[] = [];
  for (const template of await walk(templatesDir)) {
    const rel = relative(templatesDir, template);
    if (!rel.endsWith('.njk')) continue;
    // Template names may not start with a dot or be .gitignore (npm drops those when publishing).
    const outRel = rel
      .slice(0, -'.njk'.length)
      .replace(/(^|\/)gitignore$/, '$1.gitignore')
      .replace('__marker__', marker);
    const outFile = join(dir, outRel);
    await mkdir(dirname(outFile), { recursive: true });
    await writeFile(outFile, env.render(rel.split(sep).join('/'), vars));
    files.push(outRel);
  }
  return { dir, id, packageName: opts.name, files: files.sort() };
}
