/**
 * One platform per data dir. A second `slipway start` on a dir in use refuses with
 * SLIPWAY_ERR_RUNTIME_DATA_DIR_LOCKED before it touches anything (before the leftover dynos
 * and add-on servers of "a previous run" are killed, which would be the running platform's).
 *
 * The lock is an flock(2) on `<dataDir>/platform.lock`, held by a small `flock … cat` child
 * whose stdin is a pipe from this process: Node cannot flock, and a lock held by a child dies
 * with us whatever the way we die (SIGKILL included: `cat` reads EOF and exits, the kernel
 * releases the lock), so a crash never leaves a stale lock to clean up by hand. The file sits
 * in the data dir, which dynos cannot reach, so no app can take the lock to stop a restart.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runtimeErrors } from '../errors.js';

/** A held data-dir lock. */
export interface DataDirLock {
  /** Release it (the platform stopped). */
  release(): Promise<void>;
}

/** `flock`'s exit code when the lock is taken (any code that `cat` itself cannot give). */
const TAKEN = 75;

/** Take the lock on `dataDir` (which must exist), or throw SLIPWAY_ERR_RUNTIME_DATA_DIR_LOCKED. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = join(dataDir, 'platform.lock');
  const pidFile = join(dataDir, 'platform.pid');
  // A fixed script: it says when the lock is ours, then waits for our end of the pipe to close.
  const child = spawn(
    'flock',
    ['--nonblock', '--conflict-exit-code', String(TAKEN), file, '-c', 'echo locked; exec cat'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // not in our process group: a Ctrl-C to the terminal must not release it early
    },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c;
  });
  const outcome = await new Promise<'locked' | { code: number | null; error?: Error }>((resolve) => {
    child.stdout.once('data', () => resolve('locked'));
    child.once('error', (error) => resolve({ code: null, error }));
    child.once('exit', (code) => resolve({ code }));
  });
  if (outcome !== 'locked') {
    if (outcome.code === TAKEN) {
      const pid = (await readFile(pidFile, 'utf8').catch(() => '')).trim();
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DATA_DIR_LOCKED({
        dir: dataDir,
        holder: /^\d+$/.test(pid) ? ` (pid ${pid})` : '',
      });
    }
    throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DATA_DIR({
      dir: dataDir,
      detail: `cannot lock it with flock(1) (util-linux): ${outcome.error?.message || stderr.trim() || `exit ${outcome.code}`}`,
    });
  }
  // The holder keeps running on its own; it must not keep this process alive.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr])
    (s as unknown as { unref?: () => void }).unref?.();
  child.stdin.on('error', () => {});
  await writeFile(pidFile, `${process.pid}\n`, { mode: 0o600 });
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      const gone = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      await gone;
    },
  };
}
