/**
 * Starting a build worker, before any job: the process (in its own process group, in the
 * stack's build root when sandboxed), its pids cgroup, and the kernel it composes from the
 * platform's recipe (`prepare`, the first line on fd 3). What is done here is the platform's,
 * as root, before anything of an app runs: so it can be done ahead of a build
 * (build-worker-pool.ts) and the build pays only for itself. The job (build-runner.ts) then
 * makes the worker the app's, for good; a worker runs one build and exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { splitLines } from '@slipway/core';
import type { PrepareMessage } from './build-worker.js';
import { BUILD_PIDS_LIMIT, detectPidsMechanism, PidsCgroup } from './dynos/pids.js';
import type { KernelRecipe } from './plugins.js';
import type { BuildMounts, BuildSandbox, WrappedBuild } from './sandbox/build-sandbox.js';

const WORKER = fileURLToPath(new URL('./build-worker.js', import.meta.url));

/** Lines a worker prints before it has a job that are kept for the build's log (Node's warnings). */
const EARLY_LINES = 100;

let pidsMechanism: ReturnType<typeof detectPidsMechanism> | undefined;

/** Kill a process group, ignoring "already gone". */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** What a worker is started with: everything but the job. */
export interface WorkerSpec {
  /** Its whole environment while it is root (no HOME or TMPDIR: those are the app's). */
  env: Record<string, string>;
  /** The recipe it composes its kernel from. */
  recipe: KernelRecipe;
  /** Run it in the stack's build root with these mounts; default on the host. */
  sandbox?: BuildSandbox;
  /** What a sandboxed worker binds (the job's dirs, or the dirs of an app's builds). */
  mounts?: BuildMounts;
}

/** A started worker: composing or holding its kernel, waiting for its job on `channel`. */
export interface StartedWorker {
  child: ChildProcess;
  /** fd 3: the job goes in, messages come out. */
  channel: Duplex;
  /** Resolves once it is in its pids cgroup and has its `prepare` line (send the job after). */
  ready: Promise<void>;
  /** Resolves once it has composed its kernel (or failed to, or died): it is all set for a job. */
  prepared: Promise<void>;
  /** 'nproc' when no pids cgroup holds it (the job asks the worker to lower RLIMIT_NPROC). */
  mechanism: Awaited<ReturnType<typeof detectPidsMechanism>>;
  /** Where its stdout and stderr lines go; lines before a job are kept for it (a few). */
  output(onLine: (line: string) => void): void;
  /** Kill it and everything it started, and remove its cgroup and sandbox layer. */
  dispose(): Promise<void>;
}

/** Start a worker and let it compose its kernel; it waits for a job on fd 3. */
export async function startWorker(spec: WorkerSpec): Promise<StartedWorker> {
  pidsMechanism ??= detectPidsMechanism();
  const mechanism = await pidsMechanism;
  const wrapped: WrappedBuild | undefined = spec.sandbox
    ? await spec.sandbox.wrap(spec.mounts ?? { readOnly: [], readWrite: [] })
    : undefined;
  const [command, ...prefix] = wrapped ? [...wrapped.argv, process.execPath] : [process.execPath];
  const child = spawn(command as string, [...prefix, WORKER], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: spec.env,
    cwd: '/',
  });
  const channel = child.stdio[3] as Duplex;
  channel.on('error', () => {});
  child.on('error', () => {});
  let sink: ((line: string) => void) | undefined;
  const early: string[] = [];
  for (const stream of [child.stdout, child.stderr])
    if (stream)
      splitLines(stream, (l) => {
        if (sink) sink(`       ${l}`);
        else if (early.length < EARLY_LINES) early.push(`       ${l}`);
      });
  let cgroup: PidsCgroup | undefined;
  let disposed = false;
  const ready = (async () => {
    // It joins the cgroup before it (or the app) can fork: a sandboxed worker's wrapper waits
    // for its `go` line, a host worker for its `prepare` line before it composes anything.
    if (mechanism !== 'nproc' && child.pid)
      cgroup = await PidsCgroup.create(mechanism, `build-${child.pid}`, BUILD_PIDS_LIMIT)
        .then(async (c) => {
          await c.add(child.pid as number);
          return c;
        })
        .catch(() => undefined);
    // Written, never ended: the worker reads the end of the pipe as the platform's death.
    const prepare: PrepareMessage = { type: 'prepare', recipe: spec.recipe };
    if (!disposed) channel.write(`${wrapped ? 'go\n' : ''}${JSON.stringify(prepare)}\n`);
  })();
  // Its first message says the kernel is composed; nothing else comes before a job.
  const prepared = new Promise<void>((resolve) => {
    const onData = (c: Buffer) => {
      if (!c.includes(10)) return;
      channel.off('data', onData);
      resolve();
    };
    channel.on('data', onData);
    channel.once('close', () => resolve());
    child.once('exit', () => resolve());
  });
  return {
    child,
    channel,
    ready,
    prepared,
    mechanism,
    output(onLine) {
      sink = onLine;
      for (const l of early.splice(0)) onLine(l);
    },
    dispose() {
      disposed = true;
      // Leftover buildpack processes (a daemon a build started) die with the group, and with
      // the cgroup those that left it; a moment later, so a finished worker exits on its own.
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          killGroup(child.pid, 'SIGKILL');
          channel.destroy();
          void Promise.allSettled([ready.then(() => cgroup?.remove()), wrapped?.cleanup()]).then(() =>
            resolve(),
          );
        }, 200).unref(),
      );
    },
  };
}
