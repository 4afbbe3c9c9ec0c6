/**
 * Parent side of builds: starts the build worker in its own process group, relays its output
 * line by line, and kills the whole group on timeout or when the worker goes silent-dead.
 * The worker starts with an environment made from nothing (isolation/build-env.ts), in a pids
 * cgroup when the host has one, and switches to the app's uid (`job.user`) before it runs
 * anything of the app's: what it reports back is checked, never trusted (the slug must be the
 * file the job named). While it is still root it has no HOME or TMPDIR and its cwd is `/`:
 * those name the app's own dirs, where a planted `.node_modules` or symlink would be used by
 * root; it takes them (`job.asApp`) once it is the app.
 *
 * The worker's messages come over a pipe (fd 3), one JSON line each, read with a fixed memory
 * ceiling (`MAX_MESSAGE_BYTES`): once the worker runs the app's code (a pinned buildpack runs
 * in its process), the pipe is the app's to write anything to. Node's IPC channel is not used:
 * it buffers a message of any size, and throws in the platform at 512 MB without a newline.
 *
 * The build-lifecycle hooks run here, in the platform, on the kernel it was given: the worker
 * relays `beforeBuild` and `afterBuild` and waits for the answer. What it sends is checked
 * like the rest (each hook once, in order, with a build dir inside the job's work dir); taps
 * read that dir as the platform, so they must treat its contents as the app's, untrusted.
 *
 * Starting the worker is build-worker-process.ts; with `warm`, a build takes the worker started
 * for it after the app's previous build (build-worker-pool.ts) and leaves one for the next.
 */
import { dirname, resolve as resolvePath, sep } from 'node:path';
import {
  type BuildEvent,
  type BuildOutcome,
  type Clock,
  createBuildLog,
  DEFAULT_STACK,
  isSlipwayError,
  type KernelHooks,
  LineSplitter,
  type SlipwayError,
  SlipwayError as SlipwayErrorClass,
  systemClock,
} from '@slipway/core';
import type { BuildJob, HookReply, WorkerMessage } from './build-worker.js';
import type { BuildWorkerPool } from './build-worker-pool.js';
import { killGroup, type StartedWorker, startWorker } from './build-worker-process.js';
import { BUILD_PIDS_LIMIT } from './dynos/pids.js';
import { runtimeErrors } from './errors.js';
import { buildEnvironment } from './isolation/build-env.js';
import type { BuildMounts, BuildSandbox } from './sandbox/build-sandbox.js';

/**
 * Largest message the worker may send (bytes): output lines come in pieces of 10,000 bytes,
 * and a result is a few process types and an app.json. A longer one ends the build.
 */
export const MAX_MESSAGE_BYTES = 4 << 20;

/** What a successful build returns. */
export type BuildOutput = Extract<WorkerMessage, { type: 'done' }>['result'];

/** Where and how the worker process runs. */
export interface WorkerOptions {
  /** Its whole environment; default a clean one with HOME and TMPDIR in `job.workDir`. */
  env?: Record<string, string>;
  /** Its working directory; default `job.workDir`. */
  cwd?: string;
  /** Whose `beforeBuild` / `afterBuild` taps run for this build (the platform's kernel); none when absent. */
  hooks?: Pick<KernelHooks, 'beforeBuild' | 'afterBuild'>;
  /** Run it in the stack's build root (sandbox/build-sandbox.ts); default on the host. */
  sandbox?: BuildSandbox;
  /** The platform's clock (the kernel's `Clock`), which times the build out; default the real one. */
  clock?: Clock;
}

/**
 * What a sandboxed build binds for a buildpack pinned by absolute path: the path, or the
 * outermost `node_modules` above it, where npm put the package's dependencies beside it.
 */
function pinnedMount(path: string): string {
  const parts = path.split('/');
  const i = parts.indexOf('node_modules');
  return i > 0 ? parts.slice(0, i + 1).join('/') : path;
}

/**
 * The dirs of a job a sandboxed worker reads and writes (the same paths inside): a buildpack
 * pinned by absolute path (`buildpacks:add /path`) is read there too, as a host build reads it
 * (with its own modes: the app's uid reads only what others may read).
 */
function jobMounts(job: BuildJob, env: Record<string, string | undefined>) {
  const config = typeof job.recipe.configFile === 'string' ? [dirname(job.recipe.configFile)] : [];
  const pinned = (job.buildpacks ?? []).filter((b) => b.startsWith('/')).map(pinnedMount);
  const own = [job.source, job.workDir, job.cacheDir, job.buildpacksDir, env.HOME, env.TMPDIR];
  // The platform's shared runtimes: linked from, never written (shared-runtimes.ts).
  const shared = job.sharedMembers ? [job.sharedMembers] : [];
  return {
    readOnly: [...config, ...pinned, ...shared],
    readWrite: own.filter((d): d is string => typeof d === 'string'),
    ...(job.appDir ? { through: job.appDir } : {}),
  };
}

/** Use and refill a pool of pre-started workers (build-worker-pool.ts). */
export interface WarmOptions {
  pool: BuildWorkerPool;
  /**
   * The dir of this app's builds (job.workDir is in it, nothing of another app is): a worker
   * started ahead of the app's next build binds it, as it cannot know the next build's own dir.
   */
  buildsDir: string;
  /**
   * Hands over the start of the next build's worker instead of starting it as the build ends:
   * the platform calls it once the release is out, so the two do not compete for the CPU.
   */
  defer?: (startNext: () => void) => void;
}

/** Run one build in a worker; `onLine` gets every output line as it happens. */
export async function runBuildInWorker(
  job: BuildJob,
  onLine: (line: string) => void,
  signal?: AbortSignal,
  opts: WorkerOptions & { warm?: WarmOptions } = {},
): Promise<BuildOutput> {
  // What names this build (its dirs, its commit) is taken with the job, once the worker is the
  // app's: the rest is the same for every build, so a worker started ahead of the job has it.
  const { HOME, TMPDIR, SOURCE_VERSION, ...rootEnv } =
    opts.env ??
    (await buildEnvironment({ home: job.workDir, tmp: job.workDir, isolated: job.user !== undefined }));
  const asApp = {
    env: {
      ...(HOME ? { HOME } : {}),
      ...(TMPDIR ? { TMPDIR } : {}),
      ...(SOURCE_VERSION ? { SOURCE_VERSION } : {}),
    },
    cwd: opts.cwd ?? job.workDir,
  };
  const mounts = jobMounts(job, { ...asApp.env, HOME, TMPDIR });
  const spec = {
    env: rootEnv,
    recipe: job.recipe,
    ...(opts.sandbox ? { sandbox: opts.sandbox, mounts } : {}),
  };
  const { warm } = opts;
  const worker = (warm && (await warm.pool.take(job.app, spec))) || (await startWorker(spec));
  try {
    return await runOnWorker(worker, { ...job, asApp }, onLine, signal, opts);
  } finally {
    // The app's next build finds a worker up and its kernel composed, unless the platform stops.
    if (warm && !signal?.aborted && isInside(job.workDir, warm.buildsDir)) {
      const next = {
        ...spec,
        ...(opts.sandbox ? { mounts: warmMounts(mounts, job.workDir, warm.buildsDir) } : {}),
      };
      const startNext = () => {
        if (!signal?.aborted) warm.pool.prestart(job.app, next);
      };
      if (warm.defer) warm.defer(startNext);
      else startNext();
    }
  }
}

const isInside = (path: string, dir: string) => resolvePath(path).startsWith(resolvePath(dir) + sep);

/** A build's mounts with its own dirs under `buildsDir` replaced by that dir (any next build's). */
function warmMounts(m: BuildMounts, workDir: string, buildsDir: string): BuildMounts {
  const own = m.readWrite.filter((d) => d !== workDir && !isInside(d, workDir));
  return { ...m, readWrite: [buildsDir, ...own] };
}

/** Send `job` to a started worker and follow it to its result. */
function runOnWorker(
  worker: StartedWorker,
  job: BuildJob,
  onLine: (line: string) => void,
  signal: AbortSignal | undefined,
  { hooks, clock = systemClock }: Pick<WorkerOptions, 'hooks' | 'clock'>,
): Promise<BuildOutput> {
  const { child, channel } = worker;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      killGroup(child.pid, 'SIGKILL');
      finish(
        runtimeErrors.SLIPWAY_ERR_RUNTIME_BUILD_WORKER({
          detail: 'the platform is stopping; the build was cancelled',
        }),
      );
    };
    let settled = false;
    const finish = (err: SlipwayError | undefined, out?: BuildOutput) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      // A worker that died or was killed after beforeBuild: the taps still hear the build ended.
      if (err) lifecycle.failed();
      // The platform's cancel signal is shared by every build: a finished one lets go of it.
      signal?.removeEventListener('abort', onAbort);
      void worker.dispose();
      if (err) reject(err);
      else resolve(out as BuildOutput);
    };
    // A grace period beyond the pipeline's own timeout, for a worker that stopped responding.
    const timer = clock.setTimeout(() => {
      killGroup(child.pid, 'SIGKILL');
      finish(
        runtimeErrors.SLIPWAY_ERR_RUNTIME_BUILD_WORKER({
          detail: `no result within ${Math.round((job.timeoutMs + 10_000) / 1000)} s; the build was killed`,
        }),
      );
    }, job.timeoutMs + 10_000);
    worker.output(onLine);
    const lifecycle = buildLifecycle(job, hooks, onLine, (r) => {
      if (!settled) channel.write(`${JSON.stringify(r)}\n`);
    });
    const splitter = new LineSplitter((text) => {
      if (settled) return;
      let m: WorkerMessage;
      try {
        m = JSON.parse(text) as WorkerMessage;
      } catch {
        killGroup(child.pid, 'SIGKILL');
        channel.destroy();
        return finish(
          runtimeErrors.SLIPWAY_ERR_RUNTIME_BUILD_WORKER({
            detail: `it sent a message that is not JSON or is over ${MAX_MESSAGE_BYTES >> 20} MB; the build was killed`,
          }),
        );
      }
      if (m.type === 'line') onLine(typeof m.line === 'string' ? m.line : String(m.line));
      else if (m.type === 'hook') void lifecycle.run(m);
      else if (m.type === 'done') {
        // The worker runs as the app: a result naming another file than the job's is a lie.
        if (m.result?.slug?.path !== job.output)
          finish(
            runtimeErrors.SLIPWAY_ERR_RUNTIME_BUILD_WORKER({ detail: 'it reported a slug at another path' }),
          );
        // Nor another stack than the job's: dynos run in the stack the slug names (its run root
        // is a path made from the name, its image a tag), so a name is the platform's alone.
        else if (m.result.stack !== (job.stack ?? DEFAULT_STACK.id))
          finish(
            runtimeErrors.SLIPWAY_ERR_RUNTIME_BUILD_WORKER({
              detail: 'it reported a slug of another stack than the build ran in',
            }),
          );
        else finish(undefined, m.result);
      } else if (m.type === 'failed')
        finish(
          new SlipwayErrorClass(m.error.code, m.error.message, {
            status: 422,
            ...(m.error.hint ? { hint: m.error.hint } : {}),
          }),
        );
    }, MAX_MESSAGE_BYTES);
    const channelEnded = new Promise<void>((r) => {
      channel.on('data', (c: Buffer) => splitter.push(c));
      channel.once('end', () => {
        splitter.end();
        r();
      });
      channel.once('close', () => r());
    });
    const exited = async (code: number | null, sig: NodeJS.Signals | null) => {
      // Its last message may still be in the pipe; a process it left holding the pipe open
      // does not hold the result up for more than a second.
      await Promise.race([channelEnded, new Promise((r) => setTimeout(r, 1000))]);
      finish(
        runtimeErrors.SLIPWAY_ERR_RUNTIME_BUILD_WORKER({
          detail: `exited with ${sig ?? `status ${code}`}`,
        }),
      );
    };
    child.on('error', (e) => finish(runtimeErrors.SLIPWAY_ERR_RUNTIME_BUILD_WORKER({ detail: e.message })));
    // A pre-started worker may have died while it waited.
    if (child.exitCode !== null || child.signalCode !== null) void exited(child.exitCode, child.signalCode);
    else child.on('exit', exited);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    // Without a pids cgroup the worker lowers its own RLIMIT_NPROC (job.nproc) before switching uid.
    const sent = worker.mechanism === 'nproc' && job.user ? { ...job, nproc: BUILD_PIDS_LIMIT } : job;
    void worker.ready.then(() => {
      if (!settled) channel.write(`${JSON.stringify(sent satisfies BuildJob)}\n`);
    });
  });
}

/** The platform's side of the relayed build-lifecycle hooks of one build. */
function buildLifecycle(
  job: BuildJob,
  hooks: WorkerOptions['hooks'],
  onLine: (line: string) => void,
  reply: (r: HookReply) => void,
) {
  const work = resolvePath(job.workDir);
  let event: BuildEvent | undefined;
  let after = false;
  return {
    async run(m: Extract<WorkerMessage, { type: 'hook' }>): Promise<void> {
      const buildDir = typeof m.buildDir === 'string' ? resolvePath(m.buildDir) : '';
      // Each hook once, in order, on a build dir of this job: anything else is ignored. A build
      // that failed before `beforeBuild` (a bad Procfile) still reports its end.
      const ok =
        buildDir.startsWith(work + sep) &&
        ((m.hook === 'beforeBuild' && !event) || (m.hook === 'afterBuild' && !after));
      if (!ok) return reply({ type: 'hook-done' });
      event ??= { app: job.app, id: String(m.id).slice(0, 64), buildDir, log: createBuildLog(onLine) };
      try {
        if (m.hook === 'beforeBuild') await hooks?.beforeBuild.promise(event);
        else {
          after = true;
          await hooks?.afterBuild.promise(event, outcomeOf(m.outcome, job));
        }
        reply({ type: 'hook-done' });
      } catch (e) {
        const error = isSlipwayError(e)
          ? {
              code: e.code,
              message: e.describe().split('\n')[0] as string,
              ...(e.hint ? { hint: e.hint } : {}),
            }
          : { code: 'SLIPWAY_ERR_PLUGIN_FAILED', message: (e as Error)?.message ?? String(e) };
        reply({ type: 'hook-done', error });
      }
    },
    failed(): void {
      if (!event || after) return;
      after = true;
      hooks?.afterBuild.promise(event, undefined).catch(() => {});
    },
  };
}

/** A relayed outcome, rebuilt from what the worker sent: plain data, the slug at the job's path. */
function outcomeOf(o: BuildOutcome | undefined, job: BuildJob): BuildOutcome | undefined {
  if (!o || typeof o !== 'object') return undefined;
  const slug = o.slug && typeof o.slug === 'object' ? { ...o.slug, path: job.output } : undefined;
  return {
    buildpacks: Array.isArray(o.buildpacks) ? o.buildpacks : [],
    processTypes: o.processTypes && typeof o.processTypes === 'object' ? o.processTypes : {},
    ...(slug ? { slug } : {}),
  };
}
