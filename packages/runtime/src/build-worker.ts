/**
 * The build worker: a child process (started by build-runner.ts) that composes a kernel and
 * runs one build. Isolating builds here means a buildpack that hangs, leaks or crashes cannot
 * take the platform down, and a timeout can kill the whole process group. With `job.user` it
 * loads the platform's plugins first (their code may sit in a directory only the platform can
 * read), then switches for good to the app's uid and gid with no supplementary groups, and only
 * then takes the app's HOME, TMPDIR and working dir (`job.asApp`): the app's buildpacks,
 * scripts and everything they start can reach only what that uid can. The job arrives, and
 * messages go back, as JSON lines on fd 3.
 *
 * The worker replays the platform's registrations (the same recipe, so config-file plugins and
 * add-on providers register here too, and nothing is started), but it does not run the build
 * lifecycle hooks itself: it relays `beforeBuild` and `afterBuild` to the platform, whose
 * kernel also holds the taps of plugin objects passed to `startPlatform`, and waits for the
 * answer (a tap may refuse the build). So every tap fires once, in the platform.
 *
 * The first line on fd 3 is `prepare` (the platform's recipe): the worker composes its kernel
 * at once, as root, before any job, so a worker started ahead of a build (build-worker-pool.ts)
 * waits with its plugins loaded. The job comes next; one job per worker.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { buildpackErrors, resolveBuildpack } from '@slipway/buildpack-sdk';
import {
  type BuildEvent,
  type BuildOutcome,
  DEFAULT_STACK,
  isSlipwayError,
  runBuild,
  SlipwayError,
  stackInfo,
} from '@slipway/core';
import { splitMessage } from './logs/log-hub.js';
import { composeKernel, type KernelRecipe } from './plugins.js';

/** The job the parent sends. */
export interface BuildJob {
  recipe: KernelRecipe;
  source: string;
  app: string;
  cacheDir: string;
  workDir: string;
  env: Record<string, string>;
  output: string;
  buildpacks: string[];
  /**
   * Where pinned buildpacks the platform's config does not list are fetched to (git clones and
   * npm installs, kept between builds).
   */
  buildpacksDir: string;
  /**
   * The app's fence (AppDirs), holding the dirs above: a sandboxed build binds it as one mount
   * (hard links between cache and build dir work), its other entries hidden.
   */
  appDir?: string;
  timeoutMs: number;
  /** The platform's store of shared runtime members (shared-runtimes.ts), bound read-only. */
  sharedMembers?: string;
  /** The stack's name (`STACK`); default core's `DEFAULT_STACK`. */
  stack?: string;
  /** The dynos see only the stack and the slug: buildpacks put the runtime in it (`StackInfo`). */
  runtimeInSlug?: boolean;
  /** The app's uid/gid to switch to before anything of the app's runs (the parent is root). */
  user?: { uid: number; gid: number };
  /** RLIMIT_NPROC to set before switching (hosts without a pids cgroup). */
  nproc?: number;
  /**
   * Taken after the switch: variables naming the app's dirs (HOME, TMPDIR) and the working dir.
   * Root never runs with them (node would load `$HOME/.node_modules`, a tool would write in TMPDIR).
   */
  asApp?: { env: Record<string, string>; cwd: string };
}

/** The first line the platform sends: what to compose the kernel from, ahead of the job. */
export interface PrepareMessage {
  type: 'prepare';
  recipe: KernelRecipe;
}

/** Become the app's user, irrevocably (setuid from root drops every capability). */
function switchUser(job: BuildJob): void {
  if (job.nproc) execFileSync('prlimit', ['--pid', String(process.pid), `--nproc=${job.nproc}`]);
  if (!job.user) return;
  process.setgroups?.([]);
  process.setgid?.(job.user.gid);
  process.setuid?.(job.user.uid);
  if (process.getuid?.() !== job.user.uid || process.getgid?.() !== job.user.gid)
    throw new Error(`could not switch to uid ${job.user.uid}`);
}

/** Take the app's HOME, TMPDIR and working dir (after `switchUser`). */
function enterApp(job: BuildJob): void {
  if (!job.asApp) return;
  for (const [k, v] of Object.entries(job.asApp.env)) process.env[k] = v;
  process.chdir(job.asApp.cwd);
}

/** Messages the worker sends back. */
export type WorkerMessage =
  | { type: 'line'; line: string }
  /** The kernel is composed (or failed to be): the worker waits for its job. */
  | { type: 'prepared' }
  /** Run a build-lifecycle hook in the platform; answered with a `HookReply`. */
  | {
      type: 'hook';
      hook: 'beforeBuild' | 'afterBuild';
      id: string;
      buildDir: string;
      outcome?: BuildOutcome;
    }
  | {
      type: 'done';
      result: {
        processTypes: Record<string, string>;
        configDefaults: Record<string, string>;
        addons: string[];
        buildpacks: { id: string; name: string }[];
        stack: string;
        appJson: Record<string, unknown> | undefined;
        slug: { path: string; checksum: string; size: number };
      };
    }
  | { type: 'failed'; error: { code: string; message: string; hint?: string } };

/** The platform's answer to a `hook` message: the error of a tap that refused, if any. */
export interface HookReply {
  type: 'hook-done';
  error?: { code: string; message: string; hint?: string };
}

/** fd 3: the job comes in, messages go out, and its end means the platform is gone. */
const channel = new Socket({ fd: 3, readable: true, writable: true });
channel.on('error', () => {});
const post = (m: WorkerMessage, done?: () => void) => channel.write(`${JSON.stringify(m)}\n`, done);
const send = (m: WorkerMessage) => new Promise<void>((resolve) => post(m, () => resolve()));

/** Replies to `hook` messages, in order (one hook is in flight at a time). */
const replies: ((r: HookReply) => void)[] = [];

/** Relay one lifecycle hook to the platform and wait for its taps. */
async function relay(hook: 'beforeBuild' | 'afterBuild', event: BuildEvent, outcome?: BuildOutcome) {
  const reply = new Promise<HookReply>((resolve) => replies.push(resolve));
  const { buildpacks, processTypes, slug } = outcome ?? {};
  await send({
    type: 'hook',
    hook,
    id: event.id,
    buildDir: event.buildDir,
    ...(outcome
      ? {
          outcome: {
            buildpacks: buildpacks ?? [],
            processTypes: processTypes ?? {},
            ...(slug ? { slug } : {}),
          },
        }
      : {}),
  });
  const { error } = await reply;
  if (error) throw new SlipwayError(error.code, error.message, error.hint ? { hint: error.hint } : {});
}

async function run(job: BuildJob, prepared: Prepared | undefined): Promise<void> {
  try {
    // The kernel composed on `prepare`, when the job's recipe is the one it was composed from.
    const { kernel, skipped } =
      prepared && prepared.recipe === JSON.stringify(job.recipe)
        ? await prepared.kernel
        : await composeKernel(job.recipe);
    switchUser(job);
    enterApp(job);
    for (const s of skipped) await send({ type: 'line', line: ` !     skipped plugin ${s}` });
    const r = await runBuild({
      kernel,
      source: job.source,
      app: job.app,
      cacheDir: job.cacheDir,
      workDir: job.workDir,
      env: job.env,
      output: job.output,
      buildpacks: job.buildpacks,
      ...(job.sharedMembers ? { sharedMembers: job.sharedMembers } : {}),
      ...(job.stack || job.runtimeInSlug
        ? { stack: stackInfo(job.stack ?? DEFAULT_STACK.id, job.runtimeInSlug) }
        : {}),
      // A pinned git URL, path or npm package the config does not list (`buildpacks:add URL`,
      // app.json `buildpacks`) is fetched and loaded for this build only.
      fetchBuildpack: async (name) => {
        // Relative to what? Not the platform's working directory: refuse, and say what works.
        if (name.startsWith('.'))
          throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RESOLVE({
            specifier: name,
            detail: 'a relative path names no place on a platform; give an absolute path or a git URL',
          });
        // A pinned repository usually belongs to another user (root, the platform): git would
        // refuse it as "dubious ownership". Its code runs in this build anyway, so trust it, for
        // the fetch only (GIT_CONFIG_GLOBAL: the local transport drops `-c` settings).
        const gitConfig = join(job.buildpacksDir, 'fetch.gitconfig');
        await writeFile(gitConfig, '[safe]\n\tdirectory = *\n');
        process.env.GIT_CONFIG_GLOBAL = gitConfig;
        try {
          return await resolveBuildpack(name, process.cwd(), {
            cacheDir: join(job.buildpacksDir, 'git'),
            npmPrefix: join(job.buildpacksDir, 'npm'),
          });
        } finally {
          delete process.env.GIT_CONFIG_GLOBAL;
        }
      },
      timeoutMs: job.timeoutMs,
      lifecycle: {
        beforeBuild: (event) => relay('beforeBuild', event),
        afterBuild: (event, outcome) => relay('afterBuild', event, outcome),
      },
      // Lines travel in pieces of at most 10,000 bytes, as the platform logs them.
      onLine: (line) => {
        for (const piece of splitMessage(line)) post({ type: 'line', line: piece });
      },
    });
    if (!r.slug) throw new Error('the build produced no slug');
    await send({
      type: 'done',
      result: {
        processTypes: r.processTypes,
        configDefaults: r.configDefaults,
        addons: r.addons,
        buildpacks: r.buildpacks.map((d) => ({ id: d.buildpack, name: d.name })),
        stack: r.stack.id,
        appJson: r.appJson as Record<string, unknown> | undefined,
        slug: r.slug,
      },
    });
  } catch (e) {
    const error = isSlipwayError(e)
      ? {
          code: e.code,
          message: `${e.plugin ? `[${e.plugin}${e.hook ? ` ${e.hook}` : ''}] ` : ''}${e.message}`,
          ...(e.hint ? { hint: e.hint } : {}),
        }
      : { code: 'SLIPWAY_ERR_RUNTIME_BUILD_FAILED', message: (e as Error)?.message ?? String(e) };
    await send({ type: 'failed', error });
  }
  finished = true;
  channel.end();
}

let finished = false;
// The pipe ends when the platform dies, SIGKILL included (Node cannot ask the kernel for a
// parent-death signal): the build and everything it started go with it, at once, rather than
// running on unsupervised until the build timeout.
channel.once('end', () => {
  if (finished) return;
  try {
    process.kill(-process.pid, 'SIGKILL'); // the worker leads its own process group
  } catch {
    process.exit(1);
  }
});

type Prepared = { recipe: string; kernel: ReturnType<typeof composeKernel> };

// `prepare` then the job are the first lines from the platform; the next ones answer relayed hooks.
let received = '';
let started = false;
let prepared: Prepared | undefined;
channel.on('data', (chunk: Buffer) => {
  received += chunk.toString('utf8');
  for (let nl = received.indexOf('\n'); nl !== -1; nl = received.indexOf('\n')) {
    const text = received.slice(0, nl);
    received = received.slice(nl + 1);
    const m = JSON.parse(text) as BuildJob | PrepareMessage | HookReply;
    if ('type' in m && m.type === 'prepare') {
      if (started || prepared) continue;
      prepared = { recipe: JSON.stringify(m.recipe), kernel: composeKernel(m.recipe) };
      // A failure is reported when the job comes (awaited in `run`).
      prepared.kernel.then(
        () => post({ type: 'prepared' }),
        () => post({ type: 'prepared' }),
      );
    } else if (!started) {
      started = true;
      void run(m as BuildJob, prepared).finally(() => setTimeout(() => process.exit(0), 50).unref());
    } else replies.shift()?.(m as HookReply);
  }
});
