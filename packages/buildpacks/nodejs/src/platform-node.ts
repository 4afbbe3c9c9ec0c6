/**
 * The platform's own Node.js for the slug: linked from the platform's shared copy when there is
 * one (`SLIPWAY_PLATFORM_NODE`: core's platform-node.ts), else copied once per version into the
 * app's cache layer when it is a portable build. Split from node-runtime.ts, which chooses the
 * version and downloads the registry's.
 */
import {
  copyFile,
  cp,
  mkdir,
  readdir,
  readFile,
  realpath,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import type { BuildpackCompileContext } from '@slipway/buildpack-sdk';
import { savedNow, untouchedSince } from './layer-copy.js';
import { type NodeRuntime, SLUG_NODE_DIR } from './node-runtime.js';
import { probe } from './toolchain.js';

/** `npm` and `npx` launchers in `dir/bin` that find their node beside them (the slug moves). */
export async function writeNpmLaunchers(dir: string, npm: string): Promise<void> {
  for (const [name, cli] of [
    ['npm', 'npm-cli.js'],
    ['npx', 'npx-cli.js'],
  ] as const)
    await writeFile(
      join(dir, 'bin', name),
      `#!/bin/sh\n# Written by the Slipway Node.js buildpack: npm ${npm} on the node beside it.\nd="$(cd "$(dirname "$0")" && pwd)"\nexec "$d/node" "$d/../lib/node_modules/npm/bin/${cli}" "$@"\n`,
      { mode: 0o755 },
    );
}

/** Shared libraries an official Node.js binary links against, present in every glibc root. */
const PORTABLE_LIBS =
  /^(linux-vdso|libdl|libstdc\+\+|libm|libgcc_s|libpthread|libc|librt|libatomic|ld-linux[-\w]*)\.so/;

/**
 * The platform's own Node.js (the `node` on the build's PATH, and the npm found beside it) copied
 * once per version into a cache layer, keyed by the binary's size and mtime so an upgrade in
 * place is a miss. Undefined when that node links libraries the stack may lack (Debian's build
 * links libnode, libuv, …) or `ldd` cannot tell: the caller downloads the same release instead.
 */
export async function vendorPlatformNode(
  ctx: BuildpackCompileContext,
  host: string,
): Promise<NodeRuntime | undefined> {
  const pathVar = ctx.env.PATH ?? process.env.PATH ?? '';
  const bin = await onPath('node', pathVar);
  if (!bin) return undefined;
  const st = await stat(bin);
  const npmCli = await onPath('npm', pathVar);
  // npm's launcher is a link to `…/npm/bin/npm-cli.js`: the package is two levels up.
  const npmDir = npmCli ? dirname(dirname(npmCli)) : undefined;
  const npmPkg = npmDir
    ? ((await readFile(join(npmDir, 'package.json'), 'utf8').then(JSON.parse, () => undefined)) as
        | { name?: string; version?: string }
        | undefined)
    : undefined;
  const localNpm = npmPkg?.name === 'npm' && typeof npmPkg.version === 'string' ? npmPkg.version : undefined;
  const version = host.replace(/^v/, '');
  ctx.log.step(`Installing Node.js ${version}`);
  const shared = await platformShared(ctx, host);
  if (shared) return shared;
  const layer = await ctx.cacheLayer(
    'node-runtime',
    `platform@${host}|${st.size}|${st.mtimeMs}|npm@${localNpm ?? 'registry'}`,
  );
  let npm = typeof layer.metadata.npm === 'string' ? layer.metadata.npm : undefined;
  const intact =
    layer.hit && npm && (await untouchedSince(join(layer.dir, 'bin'), Number(layer.metadata.savedAt) || 0));
  if (intact) ctx.log.info(`Using cached Node.js ${version} and npm ${npm}`);
  else {
    // Without ldd (a build PATH with node alone), the binary is taken as the official build it
    // most likely is.
    const ldd = await probe(ctx, 'ldd', [bin]);
    const libs = (ldd?.stdout ?? '')
      .split('\n')
      .map((l) => l.trim().split(/\s/)[0] ?? '')
      .filter(Boolean)
      .map((l) => l.split('/').pop() as string);
    if (ldd && (ldd.code !== 0 || !libs.length || !libs.every((l) => PORTABLE_LIBS.test(l)))) {
      ctx.log.info(
        `The build machine's Node.js ${host} is not a portable build; taking it from the registry`,
      );
      return undefined;
    }
    for (const name of await readdir(layer.dir))
      await rm(join(layer.dir, name), { recursive: true, force: true });
    await mkdir(join(layer.dir, 'bin'), { recursive: true });
    await copyFile(bin, join(layer.dir, 'bin', 'node'));
    if (localNpm && npmDir) {
      await cp(npmDir, join(layer.dir, 'lib', 'node_modules', 'npm'), {
        recursive: true,
        verbatimSymlinks: true,
      });
      await writeNpmLaunchers(layer.dir, localNpm);
      npm = localNpm;
    } else {
      ctx.log.warn(`No npm beside the build machine's Node.js ${host}: the slug carries node alone.`);
      npm = 'none';
    }
    await layer.save({ version, npm, savedAt: savedNow() });
  }
  ctx.log.info(`Using Node.js ${host} and npm ${npm} (in the slug at ${SLUG_NODE_DIR})`);
  return {
    version: host,
    source: 'platform',
    binDir: join(ctx.buildDir, SLUG_NODE_DIR, 'bin'),
    layerDir: layer.dir,
    npm,
  };
}

/**
 * The platform's Node.js as the platform shares it with every app (`SLIPWAY_PLATFORM_NODE`, the
 * platform's read-only store: core's shared-members.ts), when it is the build's own `host`:
 * `.heroku/node` becomes a link to it, and the slug gets the store's packed member in its place.
 * Nothing is copied or compressed per app, and no app can change it.
 */
async function platformShared(ctx: BuildpackCompileContext, host: string): Promise<NodeRuntime | undefined> {
  const dir = process.env.SLIPWAY_PLATFORM_NODE;
  if (!dir) return undefined;
  // <store>/<entry>/tree/.heroku/node → <store>/<entry>/member.json
  const meta = (await readFile(join(dir, '..', '..', '..', 'member.json'), 'utf8').then(
    JSON.parse,
    () => undefined,
  )) as { about?: { node?: string; npm?: string } } | undefined;
  if (meta?.about?.node !== host) return undefined;
  const home = join(ctx.buildDir, SLUG_NODE_DIR);
  await rm(home, { recursive: true, force: true });
  await mkdir(dirname(home), { recursive: true });
  await symlink(dir, home);
  const npm = meta.about.npm ?? 'none';
  ctx.log.info(`Using Node.js ${host} and npm ${npm} (in the slug at ${SLUG_NODE_DIR})`);
  ctx.log.info("The platform's shared copy: packed once for every app");
  return { version: host, source: 'platform', binDir: join(home, 'bin'), npm };
}

/** The real path of `name` on PATH, if any. */
export async function onPath(name: string, pathVar: string): Promise<string | undefined> {
  for (const dir of pathVar.split(delimiter).filter(Boolean)) {
    const real = await realpath(join(dir, name)).catch(() => undefined);
    if (real) return real;
  }
  return undefined;
}
