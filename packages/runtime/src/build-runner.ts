/**
 * Parent side of builds: forks the build worker in its own process group, relays its output
 * line by line, and kills the whole group on timeout or when the worker goes silent-dead.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type SlipwayError, SlipwayError as SlipwayErrorClass } from '@slipway/core';
import type { BuildJob, WorkerMessage } from './build-worker.js';
import { runtimeErrors } from './errors.js';
import { splitLines } from './logs/line-splitter.js';

/** What a successful build returns. */
export type BuildOutput = Extract<WorkerMessage, { type: 'done' }>['result'];

const WORKER = fileURLToPath(new URL('./build-worker.js', import.meta.url));

/** Kill a process group, ignoring "already gone". */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Run one build in a worker; `onLine` gets every output line as it happens. */
export function runBuildInWorker(
  job: BuildJob,
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<BuildOutput> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      killGroup(child.pid, 'SIGKILL');
      finish(
        runtimeErrors.SLIPWAY_ERR_RUNTIME_BUILD_WORKER({
          detail: 'the platform is stopping; the build was cancelled',
        }),
      );
    };
    const child = fork(WORKER, [], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let settled = false;
    const finish = (err: SlipwayError | undefined, out?: BuildOutput) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // The platform's cancel signal is shared by every build: a finished one lets go of it.
      signal?.removeEventListener('abort', onAbort);
      // Leftover buildpack processes (a daemon a build started) die with the group.
      setTimeout(() => killGroup(child.pid, 'SIGKILL'), 200).unref();
      if (err) reject(err);
      else resolve(out as BuildOutput);
    };
    // A grace period beyond the pipeline's own timeout, for a worker that stopped responding.
    const timer = setTimeout(() => {
      killGroup(child.pid, 'SIGKILL');
      finish(
        runtimeErrors.SLIPWAY_ERR_RUNTIME_BUILD_WORKER({
          detail: `no result within ${Math.round((job.timeoutMs + 10_000) / 1000)} s; the build was killed`,
        }),
      );
    }, job.timeoutMs + 10_000);
    for (const stream of [child.stdout, child.stderr])
      if (stream) splitLines(stream, (l) => onLine(`       ${l}`));
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'line') onLine(m.line);
      else if (m.type === 'done') finish(undefined, m.result);
      else if (m.type === 'failed')
        finish(
          new SlipwayErrorClass(m.error.code, m.error.message, {
            status: 422,
            ...(m.error.hint ? { hint: m.error.hint } : {}),
          }),
        );
    });
    child.on('error', (e) => finish(runtimeErrors.SLIPWAY_ERR_RUNTIME_BUILD_WORKER({ detail: e.message })));
    child.on('exit', (code, signal) =>
      finish(
        runtimeErrors.SLIPWAY_ERR_RUNTIME_BUILD_WORKER({
          detail: `exited with ${signal ?? `status ${code}`}`,
        }),
      ),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    child.send(job);
  });
}
