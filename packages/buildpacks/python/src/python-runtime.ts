/**
 * Which Python the app asks for (`.python-version`, `runtime.txt`) and which installed
 * interpreter serves it. Slipway never downloads runtimes: it finds one on PATH or fails.
 */
import { realpath, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BuildpackCompileContext } from '@slipway/buildpack-sdk';

/** The app's Python request and the file it came from. */
export interface PythonRequest {
  /** A version or version range, e.g. `3.11`, `3.11.7`. */
  version: string;
  file: '.python-version' | 'runtime.txt';
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
  return undefined;
}

/** Interpreter names to try, most specific first: `python3.12` before `python3`. */
export function interpreterCandidates(request: PythonRequest | undefined): string[] {
  const minor = request?.version.match(/^(\d+)\.(\d+)/);
  const names = minor ? [`python${minor[1]}.${minor[2]}`] : [];
  return [...names, 'python3', 'python'];
}

const PROBE = 'import platform, sys; print(platform.python_version()); print(sys.executable)';

/** Find an interpreter on PATH that answers; the version check is the caller's (requireVersion). */
export async function findPython(
  ctx: BuildpackCompileContext,
  request: PythonRequest | undefined,
): Promise<PythonInterpreter> {
  for (const name of interpreterCandidates(request)) {
    try {
      const r = await ctx.run(name, ['-c', PROBE], { stream: false, allowFailure: true });
      const [version, executable] = r.stdout.trim().split(/\r?\n/);
      // pyenv shims exist for versions that are not active and exit non-zero: try the next.
      if (r.code === 0 && version && executable) return preferShared(ctx, { version, executable });
    } catch {
      // Not on PATH; try the next name.
    }
  }
  return ctx.fail(
    'no Python interpreter found on PATH (tried ' + interpreterCandidates(request).join(', ') + ')',
    'Install Python 3 on the build machine (Debian: apt-get install python3 python3-pip) or put it on PATH.',
  );
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
 * (pyenv in /root): prefer a system interpreter of the same minor version when there is one.
 */
async function preferShared(
  ctx: BuildpackCompileContext,
  found: PythonInterpreter,
): Promise<PythonInterpreter> {
  if (await runnableByAll(found.executable)) return found;
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
  ctx.log.warn(
    `${found.executable} is not executable by other users: dynos that run as an unprivileged user cannot start it. Install Python ${minor} where every user can run it.`,
  );
  return found;
}
