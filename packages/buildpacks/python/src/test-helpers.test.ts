/**
 * Shared bits of this package's tests (a .test file so it is never shipped): fixtures, and
 * running a slug the way a dyno does — unpacked in a fresh directory, `.profile.d/*.sh`
 * sourced, the process command started with `PORT`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Path of fixture `name` in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));
}

/** Path of the repo's example app for `lang`. */
export function exampleApp(lang: string): string {
  return fileURLToPath(new URL(`../../../../examples/apps/${lang}`, import.meta.url));
}

/** A temp dir for one test; remove it with `rm`. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `slipway-${prefix}-`));
}

/** Copy a source tree into a temp dir so a test can change it. */
export async function copyApp(src: string, prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  await cp(src, dir, { recursive: true });
  return dir;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** A slug started like a dyno; `stop` kills its whole process group. */
export interface RunningSlug {
  dir: string;
  port: number;
  child: ChildProcess;
  output(): string;
  get(path: string): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

/** Unpack `slug` into a fresh dir (not the build dir) and return that dir. */
export async function unpackSlug(slug: string): Promise<string> {
  const dir = await tempDir('slug-run');
  await execFileP('tar', ['-xzf', slug, '-C', dir]);
  return dir;
}

/**
 * Start `command` in `dir` as a dyno would: bash sources `.profile.d/*.sh`, then execs the
 * command (through `eval`, so `$PORT` in a Procfile command expands), with `PORT` set and the
 * working directory the unpacked slug. Resolves once `/health` answers (or rejects with output).
 */
export async function startSlug(
  dir: string,
  command: string,
  opts: { env?: Record<string, string>; timeoutMs?: number; user?: { uid: number; gid: number } } = {},
): Promise<RunningSlug> {
  const port = await freePort();
  let out = '';
  const child = spawn(
    'bash',
    ['-c', 'for f in .profile.d/*.sh; do . "$f"; done; eval "exec $1"', 'dyno', command],
    {
      cwd: dir,
      env: { ...process.env, ...opts.env, PORT: String(port), DYNO: 'web.1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-(child.pid as number), 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`web exited with ${child.exitCode} before answering:\n${out}`);
    try {
      const r = await get('/health');
      if (r.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`web did not answer /health on port ${port} in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return { dir, port, child, output: () => out, get, stop };
}

/**
 * An unprivileged user to run a slug as (dynos may drop root), when the tests run as root and
 * `nobody` exists; `dir` is opened up so that user can read it.
 */
export async function unprivilegedUser(dir: string): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number((await execFileP('id', ['-u', 'nobody'])).stdout.trim());
    const gid = Number((await execFileP('id', ['-g', 'nobody'])).stdout.trim());
    await execFileP('chmod', ['-R', 'a+rX', dir]);
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Remove dirs made by a test, ignoring ones already gone. */
export async function removeAll(...dirs: (string | undefined)[]): Promise<void> {
  await Promise.all(dirs.filter(Boolean).map((d) => rm(d as string, { recursive: true, force: true })));
}
