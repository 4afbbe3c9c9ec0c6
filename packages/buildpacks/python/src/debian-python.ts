/**
 * Python minors the build machine lacks, from Debian's packages of the root the build runs in
 * (in the slipway-13 stack's build root, Debian trixie's python3.13) or of an earlier release
 * when the root's has none (bookworm's python3.11 runs on trixie): unpacked with pip's wheel
 * into `.heroku/python-runtime` in the slug, so every dyno runs that interpreter from its own
 * `/app`, on any runtime whose root has the C library it needs. Kept in a cache layer named by
 * the packages' versions: a rebuild copies it, downloads nothing.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type BuildpackCompileContext,
  debianPackagesFrom,
  debianSource,
  unpackDebianPackages,
} from '@slipway/buildpack-sdk';
import { linkOrCopyTree } from './dependencies.js';
import type { PythonInterpreter } from './python-runtime.js';

/** Where the interpreter lives in the slug. */
export const RUNTIME_DIR = '.heroku/python-runtime';

/**
 * Install Python `minor` from the root's Debian release (or an earlier one) into the slug;
 * undefined when none has such packages or the interpreter does not run here (the caller
 * reports what is available).
 */
export async function installDebianPython(
  ctx: BuildpackCompileContext,
  minor: string,
): Promise<PythonInterpreter | undefined> {
  const root = await debianSource();
  if (!root) return undefined;
  const names = [
    `python${minor}`,
    `python${minor}-minimal`,
    `libpython${minor}-minimal`,
    `libpython${minor}-stdlib`,
    'python3-pip-whl',
  ];
  // The root's release, else an earlier one whose build runs here (trixie: bookworm's 3.11).
  const from = await debianPackagesFrom(root, names, join(ctx.cacheDir, 'debian'), 'Python');
  if (!from) return undefined;
  const { source, packages } = from;
  const main = packages[0];
  const version = /^(\d+\.\d+\.\d+)/.exec(main?.version ?? '')?.[1] ?? minor;
  const digest = packages.map((p) => `${p?.name}=${p?.version}`).join(' ');
  const layer = await ctx.cacheLayer(`python-runtime-${minor}`, digest);
  if (layer.hit) ctx.log.step(`Using cached Python ${version} (Debian ${source.suite})`);
  else {
    ctx.log.step(`Installing Python ${version} (Debian ${source.suite}: python${minor} ${main?.version})`);
    await rm(layer.dir, { recursive: true, force: true });
    await unpackDebianPackages(source, packages, layer.dir, join(ctx.cacheDir, 'debian'), 'Python');
    // pip from Debian's wheel, unzipped where the interpreter looks for dist-packages.
    const wheels = join(layer.dir, 'usr/share/python-wheels');
    const pip = (await readdir(wheels)).find((f) => f.startsWith('pip-') && f.endsWith('.whl'));
    if (!pip) return undefined;
    await ctx.run(
      'unzip',
      ['-q', '-o', join(wheels, pip), '-d', join(layer.dir, 'usr/lib/python3/dist-packages')],
      {
        stream: false,
      },
    );
    // The copy is the app's own: pip installs into the slug with --target, never into it.
    await rm(join(layer.dir, `usr/lib/python${minor}/EXTERNALLY-MANAGED`), { force: true });
    await layer.save({ python: version, suite: source.suite });
  }
  const target = join(ctx.buildDir, RUNTIME_DIR);
  await rm(target, { recursive: true, force: true });
  await mkdir(dirname(target), { recursive: true });
  await linkOrCopyTree(ctx, layer.dir, target);
  const executable = join(target, 'usr/bin', `python${minor}`);
  // -B: bytecode written into the linked runtime would be new files each build, and the slug's
  // packed runtime member could never be reused (slug-members.ts fingerprints the tree).
  const probe = await ctx.run(executable, ['-B', '-c', 'import platform; print(platform.python_version())'], {
    stream: false,
    allowFailure: true,
  });
  if (probe.code !== 0) {
    await rm(target, { recursive: true, force: true });
    return undefined;
  }
  return { executable, version: probe.stdout.trim() || version };
}
