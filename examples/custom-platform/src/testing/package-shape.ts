/**
 * The shape of a plugin package, as far as `slipway new` promises it: layout, package.json
 * fields and scripts, effective tsconfig, test style and README sections. Two packages of the
 * same kind (an example and a fresh scaffold) must have equal shapes; names, descriptions,
 * versions of dev tools and the plugin's own code may differ.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

/** Which SDK a package is written with, and what its tests must use from it. */
export type PluginKind = 'buildpack' | 'addon';

const SDK: Record<PluginKind, { pkg: string; harness: string; sources: string[] }> = {
  buildpack: { pkg: '@slipway/buildpack-sdk', harness: 'testBuildpack(', sources: ['src/index.ts'] },
  addon: {
    pkg: '@slipway/addon-sdk',
    harness: 'describeConformance(',
    sources: ['src/index.ts', 'src/main.ts', 'src/manifest.ts', 'src/provider.ts'],
  },
};

/** Made by building, installing or by the monorepo (an example has no .gitignore of its own). */
const NOT_SHAPE = new Set([
  '.gitignore',
  'dist',
  'node_modules',
  'package-lock.json',
  'tsconfig.tsbuildinfo',
]);

/** Everything compared between two packages of one kind. */
export interface PackageShape {
  topLevel: string[];
  sources: string[];
  hasFixtures: boolean;
  packageJson: Record<string, unknown>;
  tsconfig: Record<string, unknown>;
  tests: { outsideSrc: string[]; withoutChai: string[]; usesSdk: boolean; usesHarness: boolean };
  readmeSections: string[];
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name === 'fixtures') continue;
    const p = join(dir, e.name);
    out.push(...(e.isDirectory() ? await files(p) : [p]));
  }
  return out;
}

const readJson = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Record<string, any>;

/** compilerOptions after following `extends` (relative paths only, as in this repository). */
async function effectiveTsconfig(file: string): Promise<Record<string, any>> {
  const own = await readJson(file);
  const base = own.extends ? await effectiveTsconfig(resolve(dirname(file), own.extends)) : {};
  return {
    compilerOptions: { ...(base.compilerOptions ?? {}), ...(own.compilerOptions ?? {}) },
    include: own.include ?? base.include,
  };
}

/** The shape of the package in `dir`; `id` is its plugin id (bin names are compared without it). */
export async function packageShape(dir: string, kind: PluginKind, id: string): Promise<PackageShape> {
  const sdk = SDK[kind];
  const pkg = await readJson(join(dir, 'package.json'));
  const ts = await effectiveTsconfig(join(dir, 'tsconfig.json'));
  const co = ts.compilerOptions as Record<string, unknown>;
  const all = (await files(dir)).map((f) => relative(dir, f));
  const tests = all.filter((f) => /\.test\.[cm]?[jt]s$/.test(f));
  const testText = await Promise.all(tests.map((f) => readFile(join(dir, f), 'utf8')));
  const readme = await readFile(join(dir, 'README.md'), 'utf8');
  const fixtures = join(dir, 'test', 'fixtures');
  const scoped = (deps: Record<string, string> = {}) =>
    Object.keys(deps).filter((d) => d.startsWith('@slipway/'));
  return {
    topLevel: (await readdir(dir)).filter((n) => !NOT_SHAPE.has(n)).sort(),
    sources: sdk.sources.filter((f) => existsSync(join(dir, f))),
    hasFixtures: existsSync(fixtures) && (await readdir(fixtures)).length > 0,
    packageJson: {
      version: pkg.version,
      license: pkg.license,
      type: pkg.type,
      main: pkg.main,
      types: pkg.types,
      exports: pkg.exports,
      files: pkg.files,
      engines: pkg.engines,
      scripts: pkg.scripts,
      bin: pkg.bin && Object.fromEntries(Object.entries(pkg.bin).map(([k, v]) => [k.replace(id, '<id>'), v])),
      slipwayDependencies: scoped(pkg.dependencies),
    },
    tsconfig: {
      target: co.target,
      module: co.module,
      moduleResolution: co.moduleResolution,
      lib: co.lib,
      types: co.types,
      strict: co.strict,
      declaration: co.declaration,
      rootDir: co.rootDir,
      outDir: co.outDir,
      include: ts.include,
    },
    tests: {
      outsideSrc: tests.filter((f) => !f.startsWith('src/')),
      withoutChai: tests.filter((_, i) => !/import \{ expect \} from 'chai'/.test(testText[i] as string)),
      usesSdk: testText.some((t) => t.includes(`from '${sdk.pkg}'`)),
      usesHarness: testText.some((t) => t.includes(sdk.harness)),
    },
    // `## Try it (from a fresh clone …)` and `## Try it` are the same section.
    readmeSections: [...readme.matchAll(/^## (.+)$/gm)].map((m) =>
      (m[1] as string).replace(/\s*\(.*$/, '').toLowerCase(),
    ),
  };
}
