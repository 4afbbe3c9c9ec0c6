/**
 * Which Python the app asks for (`.python-version`, `runtime.txt`, pyproject.toml's
 * `requires-python`) and which interpreter serves it: one of that minor on the build machine
 * (Debian bookworm's python3.11), the newest patch of the minor when a patch pin is not there
 * (with a warning), and otherwise a coded error listing the minors that are available, naming
 * the stack root for the minors only Debian trixie carries (their builds need a newer glibc).
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { delimiter, dirname } from 'node:path';
import {
  type BuildpackCompileContext,
  buildpackErrors,
  glibcAtLeast,
  runningGlibc,
} from '@slipway/buildpack-sdk';

/**
 * Python minors that Debian carries only in releases newer than this host's, each with the
 * first stack that runs it: trixie's 3.13 (built against glibc 2.38+, which bookworm's 2.36
 * cannot load) in slipway-13; testing's 3.14 (libc6 >= 2.42, libexpat1 >= 2.8, newer than
 * trixie's 2.41) in slipway-14, whose suite also carries 3.13. Checked against each suite's
 * Packages list.
 */
export const STACK_ONLY_PYTHONS: Readonly<
  Record<string, { debian: string; version: string; needs: string; stack: string }>
> = {
  '3.13': { debian: 'trixie', version: '3.13.5', needs: 'glibc 2.38', stack: 'slipway-13' },
  '3.14': { debian: 'testing (forky)', version: '3.14.8', needs: 'glibc 2.42', stack: 'slipway-14' },
};

/** The app's Python request and the file it came from. */
export interface PythonRequest {
  /** A version or version range, e.g. `3.11`, `3.11.7`. */
  version: string;
  file: '.python-version' | 'runtime.txt' | 'pyproject.toml';
}

/** An interpreter found on the build machine. */
export interface PythonInterpreter {
  /** Absolute path of the real interpreter (not a shim), so the slug can point at it. */
  executable: string;
  /** `3.11.7` */
  version: string;
}

/** Parse `.python-version` (pyenv: first non-comment line) or `runtime.txt` (`python-3.11.7`). */
export function parsePythonRequest(
  pythonVersion: string | undefined,
  runtimeTxt: string | undefined,
  pyprojectToml?: string,
): PythonRequest | undefined {
  const first = (text: string) =>
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l && !l.startsWith('#'));
  if (pythonVersion !== undefined) {
    const line = first(pythonVersion);
    if (line) return { version: line.replace(/^(python|cpython)-?/i, ''), file: '.python-version' };
  }
  if (runtimeTxt !== undefined) {
    const line = first(runtimeTxt);
    if (line) return { version: line.replace(/^python-/i, ''), file: 'runtime.txt' };
  }
  const requires = pyprojectToml && /^\s*requires-python\s*=\s*["']([^"']+)["']/m.exec(pyprojectToml);
  if (requires?.[1]) return { version: requires[1].trim(), file: 'pyproject.toml' };
  return undefined;
}

/** Minors (`3.11`) of the `python3.X` interpreters on PATH that every user may run, newest first. */
export async function availableMinors(pathVar: string): Promise<string[]> {
  const found = new Set<string>();
  for (const dir of [...pathVar.split(delimiter).filter(Boolean), '/usr/bin'])
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const m = /^python(\d+\.\d+)$/.exec(name);
      if (m?.[1] && !isVersionManaged(`${dir}/`) && (await runnableByAll(`${dir}/${name}`))) found.add(m[1]);
    }
  return [...found].sort((a, b) => Number(b.split('.')[1]) - Number(a.split('.')[1]));
}

/**
 * Check the interpreter found against the request. A plain version (`3.11`, `3.11.6`) needs that
 * minor: another patch of it is used with a warning, a minor only the stack has or none has is a
 * coded error listing what is available. A range (`>=3.10`) must include the interpreter.
 */
export async function checkPython(
  ctx: BuildpackCompileContext,
  request: PythonRequest,
  python: PythonInterpreter,
): Promise<void> {
  const pinned = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(request.version);
  const minor = pinned ? `${pinned[1]}.${pinned[2]}` : undefined;
  let fits: boolean;
  if (minor) fits = python.version.startsWith(`${minor}.`);
  else
    try {
      ctx.requireVersion('Python', request.version, python.version);
      fits = true;
    } catch {
      fits = false;
    }
  if (fits) {
    if (pinned?.[3] !== undefined && python.version !== request.version)
      ctx.log.warn(
        `${request.file} asks for Python ${request.version}, which this platform does not have; using Python ${python.version}, the newest ${minor} here. Pin ${minor} to say so.`,
      );
    return;
  }
  // On PATH, plus the Debian minors this root's C library runs (installed into the slug on request).
  const installable = Object.entries(STACK_ONLY_PYTHONS)
    .filter(([, s]) => glibcAtLeast(runningGlibc(), s.needs.replace(/^glibc /, '')))
    .map(([m]) => m);
  // Those on PATH first (newest first), then those Debian's packages bring.
  const here = [
    ...new Set([...(await availableMinors(ctx.env.PATH ?? process.env.PATH ?? '')), ...installable]),
  ];
  const available = here.length ? here.join(', ') : `only ${python.version}`;
  const stack = minor ? STACK_ONLY_PYTHONS[minor] : undefined;
  if (stack)
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RUNTIME_NEEDS_STACK({
      file: request.file,
      tool: 'Python',
      constraint: request.version,
      source: `Debian ${stack.debian}`,
      version: stack.version,
      needs: stack.needs,
      available,
      stack: stack.stack,
    });
  throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RUNTIME_UNAVAILABLE({
    file: request.file,
    tool: 'Python',
    constraint: request.version,
    source: 'this platform (the build machine and Debian stable)',
    available: `${available}; in stacks: ${Object.entries(STACK_ONLY_PYTHONS)
      .map(([m, s]) => `${m} (${s.stack})`)
      .join(', ')}`,
  });
}

/** Interpreter names to try, most specific first: `python3.12` before `python3`. */
export function interpreterCandidates(request: PythonRequest | undefined): string[] {
  const minor = request?.version.match(/^(\d+)\.(\d+)/);
  const names = minor ? [`python${minor[1]}.${minor[2]}`] : [];
  return [...names, 'python3', 'python'];
}

const PROBE = 'import platform, sys; print(platform.python_version()); print(sys.executable)';

/**
 * Find an interpreter that answers and that every user may run (dynos run unprivileged): on PATH,
 * most specific name first, then Debian's own `/usr/bin/python3`. One private to its owner (pyenv
 * under /root) stands in only through a shared one of the same minor. The version check is the
 * caller's (checkPython).
 */
export async function findPython(
  ctx: BuildpackCompileContext,
  request: PythonRequest | undefined,
): Promise<PythonInterpreter> {
  // After the names, each PATH dir's own python3 that every user may run (Debian's /usr/bin one
  // behind pyenv shims, which follow a .python-version to a private interpreter).
  const pathVar = ctx.env.PATH ?? process.env.PATH ?? '';
  const shared: string[] = [];
  for (const dir of pathVar.split(delimiter).filter(Boolean))
    if (!isVersionManaged(`${dir}/`) && (await runnableByAll(`${dir}/python3`)))
      shared.push(`${dir}/python3`);
  const names = [...interpreterCandidates(request), ...shared];
  for (const name of names) {
    try {
      const r = await ctx.run(name, ['-c', PROBE], { stream: false, allowFailure: true });
      const [version, executable] = r.stdout.trim().split(/\r?\n/);
      // pyenv shims exist for versions that are not active and exit non-zero: try the next.
      if (r.code !== 0 || !version || !executable) continue;
      const shared = await preferShared(ctx, { version, executable });
      if (shared) return shared;
    } catch {
      // Not on PATH; try the next name.
    }
  }
  return ctx.fail(
    `no Python interpreter found on PATH that every user may run (tried ${names.join(', ')})`,
    'Install Python 3 on the build machine (Debian: apt-get install python3 python3-pip) or put it on PATH.',
  );
}

/**
 * True for a version manager's shims and installs (pyenv, asdf, mise): they pick an interpreter
 * by the app's own .python-version, i.e. the host's toolchain answering for the app; the
 * buildpack takes interpreters only from the system (Debian's packages) or plain PATH dirs.
 */
export function isVersionManaged(path: string): boolean {
  return /\/\.?(pyenv|asdf|mise|rtx)\//.test(path);
}

/** True when every user may run `file`: it and each directory above it are world-executable. */
export async function runnableByAll(file: string): Promise<boolean> {
  try {
    let p = await realpath(file);
    if (((await stat(p)).mode & 0o001) === 0) return false;
    for (p = dirname(p); ; p = dirname(p)) {
      if (((await stat(p)).mode & 0o001) === 0) return false;
      if (p === dirname(p)) return true;
    }
  } catch {
    return false;
  }
}

/**
 * Dynos may run as an unprivileged user, who cannot start an interpreter under a private home
 * (pyenv in /root): prefer a system interpreter of the same minor version; undefined when none.
 */
async function preferShared(
  ctx: BuildpackCompileContext,
  found: PythonInterpreter,
): Promise<PythonInterpreter | undefined> {
  if (!isVersionManaged(found.executable) && (await runnableByAll(found.executable))) return found;
  const minor = found.version.split('.').slice(0, 2).join('.');
  for (const alt of [`/usr/local/bin/python${minor}`, `/usr/bin/python${minor}`]) {
    if (!(await runnableByAll(alt))) continue;
    const r = await ctx.run(alt, ['-c', PROBE], { stream: false, allowFailure: true }).catch(() => undefined);
    const [version, executable] = (r?.stdout ?? '').trim().split(/\r?\n/);
    if (r?.code === 0 && version?.startsWith(`${minor}.`) && executable) {
      ctx.log.info(
        `${found.executable} is private to its owner; using ${executable} so any dyno user can run it`,
      );
      return { version, executable };
    }
  }
  ctx.log.info(
    `${found.executable} is private or version-managed and no system Python ${minor} exists: not used`,
  );
  return undefined;
}
