/**
 * Test helper: unpack a slug somewhere new and start one of its processes the way a dyno does
 * (`.profile.d/*.sh` sourced by bash in the app dir, then `exec` of the command, with `PORT`),
 * so tests prove the slug runs from any directory. Used by this package's tests only (a third-party copy of the pattern the first-party buildpacks use).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Unpack `slug` (tar.gz) into a fresh temp dir and return that dir. */
export async function unpackSlug(slug: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-slug-run-'));
  await execFileP('tar', ['-xzf', slug, '-C', dir]);
  return dir;
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** A process started from an unpacked slug. */
export interface SlugProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code once it exits. */
  exited: Promise<number | null>;
  /** SIGTERM its process group, SIGKILL after a second; resolves when it is gone. */
  stop(): Promise<void>;
}

/** Start `command` in `appDir` like a dyno: profile scripts sourced, then exec, with `env` only. */
export function startProcess(appDir: string, command: string, env: Record<string, string>): SlugProcess {
  const script = 'for f in .profile.d/*.sh; do [ -e "$f" ] && . "$f"; done; eval "exec $1"';
  const child = spawn('bash', ['-c', script, 'dyno', command], {
    cwd: appDir,
    env: { HOME: appDir, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // Already gone.
    }
  };
  return {
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 1000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Poll `url` until it answers (any status) or `timeoutMs` passes; fails with the process output. */
export async function waitForHttp(url: string, proc: SlugProcess, timeoutMs = 20_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null)
      throw new Error(`process exited with ${proc.child.exitCode} before answering:\n${proc.output()}`);
    try {
      return await fetch(url, { signal: AbortSignal.timeout(2000) });
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${String(last)}):\n${proc.output()}`);
}

/** Run a short-lived process of the slug to completion; resolves with its code and output. */
export async function runToExit(
  appDir: string,
  command: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<{ code: number | null; output: string }> {
  const proc = startProcess(appDir, command, env);
  const timer = setTimeout(() => void proc.stop(), timeoutMs);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, output: proc.output() };
}

/** Remove a dir made by `unpackSlug`. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
