/**
 * Pre-started build workers: after an app's build (on the platform, once its release is out), a
 * worker for its next one is started and left waiting, its process up, its sandbox mounted and
 * its kernel composed (build-worker-process.ts), so a rebuild pays for the build only, not for a
 * Node start, the platform's modules and the plugins' load (0.5–1.5 s each time on a loaded
 * 2-core machine, most of a warm rebuild).
 *
 * Isolation is what a fresh worker's is: a waiting worker is the platform's (root, running only
 * the platform's code, its output kept from the build log until a job comes) and takes exactly
 * one job, of the app it was started for, then becomes that app's uid for good and exits after
 * it; nothing carries over from one build to the next. Its sandbox binds the dirs of that app's
 * builds (`buildsDir`, the per-build dir not being known yet), its cache, HOME and buildpacks:
 * nothing of another app. A job is given a waiting worker only when the worker was started with
 * the same environment, recipe and sandbox, and its mounts cover the job's (each of the job's
 * dirs is, or is inside, a dir the worker binds the same way, and that dir is still the one it
 * bound: a removed and remade dir is another inode, which a mount would not follow); otherwise
 * the waiting worker is dropped and a fresh one started.
 */
import { stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { type Clock, systemClock } from '@slipway/core';
import { type StartedWorker, startWorker, type WorkerSpec } from './build-worker-process.js';

/** Options of a `BuildWorkerPool`. */
export interface BuildWorkerPoolOptions {
  /** Most apps with a worker waiting; the least recently built app's is dropped. Default 4. */
  max?: number;
  /** How long a worker waits for its app's next build before it is stopped. Default 15 min. */
  idleMs?: number;
  /** The platform's clock (the kernel's `Clock`), which times the wait. */
  clock?: Clock;
}

interface Waiting {
  worker: StartedWorker;
  spec: WorkerSpec;
  /** The dirs it binds, each with the inode it bound. */
  bound: { path: string; rw: boolean; id: string }[];
  timer: { cancel(): void };
}

interface Starting {
  pending: Promise<{ worker: StartedWorker; bound: Waiting['bound'] }>;
  timer: { cancel(): void };
}

const inode = (path: string) =>
  stat(path).then(
    (s) => `${s.dev}:${s.ino}`,
    () => undefined,
  );

const within = (path: string, dir: string) => {
  const p = resolve(path);
  const d = resolve(dir);
  return p === d || p.startsWith(d + sep);
};

/** Workers started ahead of each app's next build, one per app. */
export class BuildWorkerPool {
  private readonly waiting = new Map<string, Waiting>();
  /** Workers still starting: `take` waits for them rather than start another. */
  private readonly starting = new Map<string, Starting>();
  private closed = false;

  constructor(private readonly o: BuildWorkerPoolOptions = {}) {}

  /** Start a worker for `app`'s next build (dropping the one that waited for it). */
  prestart(app: string, spec: WorkerSpec): void {
    if (this.closed) return;
    void this.drop(app);
    const max = this.o.max ?? 4;
    if (max < 1) return;
    const others = this.apps();
    while (others.length >= max) void this.drop(others.shift() as string);
    const entry = (async () => {
      const m = spec.mounts ?? { readOnly: [], readWrite: [] };
      const bound: Waiting['bound'] = [];
      for (const [paths, rw] of [
        [m.readOnly, false],
        [m.readWrite, true],
      ] as const)
        for (const path of paths) {
          const id = await inode(path);
          // What does not exist now is not bound (build-sandbox.ts): it covers nothing.
          if (id) bound.push({ path, rw, id });
        }
      return { worker: await startWorker(spec), bound };
    })();
    // A placeholder holds the app's place while the worker starts; `take` waits for it.
    const timer = (this.o.clock ?? systemClock).setTimeout(
      () => void this.drop(app),
      this.o.idleMs ?? 15 * 60_000,
    );
    const slot: Starting = { pending: entry, timer };
    this.starting.set(app, slot);
    entry.then(
      ({ worker, bound }) => {
        if (this.starting.get(app) !== slot || this.closed) return void worker.dispose();
        this.starting.delete(app);
        this.waiting.set(app, { worker, spec, bound, timer });
        // A worker that dies while it waits is forgotten.
        worker.child.once('exit', () => {
          if (this.waiting.get(app)?.worker === worker) void this.drop(app);
        });
      },
      () => {
        if (this.starting.get(app) === slot) void this.drop(app);
      },
    );
  }

  /** Resolves once `app`'s waiting worker has started (or failed to); at once when there is none. */
  async ready(app: string): Promise<void> {
    await this.starting.get(app)?.pending.catch(() => {});
    await this.waiting.get(app)?.worker.prepared;
  }

  /**
   * The worker waiting for `app`'s build, when it fits `spec` (see the file's header); it is
   * the caller's from then on. Undefined when there is none or it does not fit (then dropped).
   */
  async take(app: string, spec: WorkerSpec): Promise<StartedWorker | undefined> {
    await this.starting.get(app)?.pending.catch(() => {});
    const w = this.waiting.get(app);
    if (!w) return undefined;
    this.waiting.delete(app);
    w.timer.cancel();
    const { child } = w.worker;
    if (child.exitCode === null && child.signalCode === null && (await fits(w, spec))) return w.worker;
    void w.worker.dispose();
    return undefined;
  }

  /** Stop `app`'s waiting worker (the app is gone, or its dirs are); resolves once it is gone. */
  async drop(app: string): Promise<void> {
    const s = this.starting.get(app);
    const w = this.waiting.get(app);
    this.starting.delete(app);
    this.waiting.delete(app);
    s?.timer.cancel();
    w?.timer.cancel();
    await Promise.allSettled([s?.pending.then(({ worker }) => worker.dispose()), w?.worker.dispose()]);
  }

  /** The pid of the worker waiting for `app`'s next build (its process group's leader), if any. */
  pid(app: string): number | undefined {
    return this.waiting.get(app)?.worker.child.pid;
  }

  /** Apps with a worker waiting or starting. */
  apps(): string[] {
    return [...new Set([...this.starting.keys(), ...this.waiting.keys()])];
  }

  /** Stop every waiting worker, and start no more; resolves once they are gone. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.apps().map((app) => this.drop(app)));
  }
}

/** Whether a waiting worker can run a job of `spec`: same start, mounts covering the job's. */
async function fits(w: Waiting, spec: WorkerSpec): Promise<boolean> {
  if (w.spec.sandbox !== spec.sandbox) return false;
  if (JSON.stringify(w.spec.env) !== JSON.stringify(spec.env)) return false;
  if (JSON.stringify(w.spec.recipe) !== JSON.stringify(spec.recipe)) return false;
  if (!spec.sandbox) return true;
  const need = spec.mounts ?? { readOnly: [], readWrite: [] };
  for (const [paths, rw] of [
    [need.readOnly, false],
    [need.readWrite, true],
  ] as const)
    for (const path of paths) {
      const by = w.bound.find((b) => b.rw === rw && within(path, b.path));
      if (!by || (await inode(by.path)) !== by.id) return false;
    }
  return true;
}
