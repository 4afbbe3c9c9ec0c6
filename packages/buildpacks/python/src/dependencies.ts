/**
 * Installing an app's Python dependencies into `.heroku/python` with `pip install --target`:
 * plain files on `PYTHONPATH`, so the slug works from any directory (a virtualenv would bake
 * its own absolute path into every script). The installed tree is a cache layer keyed on the
 * interpreter and the dependency files, so an unchanged rebuild copies it instead of running pip.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildpackCompileContext } from '@slipway/buildpack-sdk';
import { linkInterpreter } from './profile.js';
import type { PythonInterpreter } from './python-runtime.js';

/** Where dependencies live inside the slug, relative to its root. */
export const SITE_DIR = '.heroku/python';

/** Files whose contents decide what pip installs; any change to one reinstalls. */
export const DEPENDENCY_FILES = [
  'requirements.txt',
  'pyproject.toml',
  'setup.py',
  'setup.cfg',
  'poetry.lock',
  'uv.lock',
  'pdm.lock',
] as const;

/** How the app declares its dependencies. */
export type DependencySource = 'requirements.txt' | 'pyproject.toml' | 'setup.py';

/** Pick the manifest pip installs from: requirements.txt wins, as on Heroku. */
export function dependencySource(present: ReadonlySet<string>): DependencySource | undefined {
  if (present.has('requirements.txt')) return 'requirements.txt';
  if (present.has('pyproject.toml')) return 'pyproject.toml';
  if (present.has('setup.py')) return 'setup.py';
  return undefined;
}

/**
 * The cache digest: interpreter identity plus every dependency file's contents. An interpreter
 * inside the build dir (one from Debian's packages, in the slug) is named relative to it: each
 * build has its own build dir, and its absolute path made every warm build reinstall.
 */
export function dependencyDigest(
  python: PythonInterpreter,
  files: Readonly<Record<string, string>>,
  buildDir?: string,
): string {
  const h = createHash('sha256');
  const inBuild = buildDir !== undefined && python.executable.startsWith(`${buildDir}/`);
  const executable = inBuild ? `$BUILD_DIR${python.executable.slice(buildDir.length)}` : python.executable;
  h.update(`python ${python.version} ${executable} ${process.platform}-${process.arch}\n`);
  for (const name of Object.keys(files).sort()) h.update(`${name}\0${files[name]}\0`);
  return h.digest('hex');
}

function pipEnv(ctx: BuildpackCompileContext, pipCache: string): Record<string, string | undefined> {
  return {
    PIP_CACHE_DIR: pipCache,
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_ROOT_USER_ACTION: 'ignore',
    PIP_NO_INPUT: '1',
    // No bytecode of pip's own imports in the slug's runtime: it would be packed anew each build.
    PYTHONDONTWRITEBYTECODE: '1',
    // Heroku-style: the app's own PYTHONPATH must not leak into the install.
    PYTHONPATH: undefined,
    ...(ctx.env.PIP_EXTRA_INDEX_URL ? { PIP_EXTRA_INDEX_URL: ctx.env.PIP_EXTRA_INDEX_URL } : {}),
  };
}

/**
 * Put a copy of the tree `from` at `to`. Hard links first: the site-packages tree is thousands
 * of files that nothing edits in place after install, and the build dir is thrown away once
 * packed; a real copy (`cp -a` keeps symlinks and modes) when the two are on different devices.
 */
export async function linkOrCopyTree(ctx: BuildpackCompileContext, from: string, to: string): Promise<void> {
  const linked = await ctx.run('cp', ['-al', from, to], { stream: false, allowFailure: true });
  if (linked.code === 0) return;
  await rm(to, { recursive: true, force: true });
  await ctx.run('cp', ['-a', from, to], { stream: false });
}

/** `pip install` arguments for the chosen manifest into `target`. */
export function pipInstallArgs(
  source: DependencySource,
  target: string,
  extra: readonly string[] = [],
): string[] {
  const what = source === 'requirements.txt' ? ['-r', 'requirements.txt'] : ['.'];
  // --no-compile: bytecode would add a third to the slug (slower to pack and to ship); Python
  // compiles on first import instead.
  return [
    '-m',
    'pip',
    'install',
    '--target',
    target,
    '--no-compile',
    '--no-warn-script-location',
    '--progress-bar',
    'off',
    ...extra,
    ...what,
  ];
}

/**
 * Fill `<buildDir>/.heroku/python`: from the cache layer when the digest matches, else with pip
 * (into the layer, then copied). Returns whether the cache was used.
 */
export async function installDependencies(
  ctx: BuildpackCompileContext,
  python: PythonInterpreter,
  source: DependencySource,
  files: Readonly<Record<string, string>>,
): Promise<{ cached: boolean }> {
  const pipCache = await ctx.cacheLayer('pip-cache', 'pip-v1');
  const layer = await ctx.cacheLayer('site-packages', dependencyDigest(python, files, ctx.buildDir));
  const target = join(ctx.buildDir, SITE_DIR);
  await rm(target, { recursive: true, force: true });
  await mkdir(join(ctx.buildDir, '.heroku'), { recursive: true });
  const env = pipEnv(ctx, pipCache.dir);
  if (layer.hit) {
    ctx.log.step(`Using cached dependencies (Python ${python.version}, ${source} unchanged)`);
  } else {
    ctx.log.step(`Installing dependencies with pip (from ${source})`);
    const r = await ctx.run(python.executable, pipInstallArgs(source, layer.dir), {
      env,
      allowFailure: true,
    });
    if (r.code !== 0) {
      if (/No module named pip\b/.test(r.stderr))
        ctx.fail(
          `pip is not available for Python ${python.version} (${python.executable})`,
          'Install pip for that interpreter (Debian: apt-get install python3-pip).',
        );
      const missing = /No matching distribution found for ([^\s]+)/.exec(r.stderr)?.[1];
      ctx.fail(
        missing
          ? `pip could not find ${missing}: no such package or version for Python ${python.version}`
          : `pip install failed (exit ${r.code}) for ${source}`,
        missing
          ? `Check the name and version of ${missing} in ${source} (pip index versions ${missing.replace(/[=<>!~].*$/, '')}).`
          : `Read pip's output above, fix ${source}, and build again.`,
      );
    }
    await pipCache.save();
    await portableScripts(join(layer.dir, 'bin'), python.executable);
    // The interpreter's launchers live in the layer too: linked, not written anew, by warm builds.
    await linkInterpreter(ctx.buildDir, python.executable, python.version, join(layer.dir, 'bin'));
    await layer.save({ python: python.version, source });
  }
  await linkOrCopyTree(ctx, layer.dir, target);
  if (source !== 'requirements.txt') {
    // The app's own package is part of the source, which the digest does not cover: refresh it.
    ctx.log.step('Installing the app package');
    await ctx.run(python.executable, pipInstallArgs(source, target, ['--no-deps', '--upgrade']), { env });
    await portableScripts(join(target, 'bin'), python.executable);
  }
  return { cached: layer.hit };
}

/** Import names of the distributions installed in the slug (`gunicorn`, `django`…), lower-case. */
export async function installedDistributions(buildDir: string): Promise<Set<string>> {
  let names: string[] = [];
  try {
    names = await readdir(join(buildDir, SITE_DIR));
  } catch {
    return new Set();
  }
  const out = new Set<string>();
  for (const n of names) {
    const m = /^(.+?)-[^-]+\.(dist|egg)-info$/.exec(n);
    if (m?.[1]) out.add(m[1].toLowerCase().replace(/[-.]/g, '_'));
  }
  return out;
}

/** Files a requirements file pulls in with `-r` / `-c`, which the digest must cover too. */
export function referencedRequirementFiles(requirements: string): string[] {
  const out: string[] = [];
  for (const line of requirements.split(/\r?\n/)) {
    const m = /^\s*(?:-r|-c|--requirement|--constraint)[\s=]+(\S+)/.exec(line);
    if (m?.[1] && !/^[a-z]+:\/\//i.test(m[1])) out.push(m[1]);
  }
  return out;
}

/**
 * Console scripts pip wrote (`gunicorn`) name the interpreter by its build-dir path: in their
 * `#!` line, or, when that path is too long for one, in a `/bin/sh` trampoline (`'''exec'
 * /path/python3.13 "$0" "$@"`). Point them at `python3` on PATH (the slug's launcher) so they
 * run from any `/app`. Each is rewritten as a new file, never in place: the tree may be hard
 * links into the cache.
 */
export async function portableScripts(binDir: string, executable: string): Promise<void> {
  for (const name of await readdir(binDir).catch(() => [] as string[])) {
    const file = join(binDir, name);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    let portable: string | undefined;
    if (text?.startsWith(`#!${executable}`))
      portable = `#!/usr/bin/env python3${text.slice(2 + executable.length)}`;
    else if (text?.startsWith('#!/bin/sh') && text.slice(0, 4096).includes(executable))
      portable = text.replace(executable, 'python3');
    if (portable === undefined) continue;
    await rm(file);
    await writeFile(file, portable, { mode: 0o755 });
  }
}
