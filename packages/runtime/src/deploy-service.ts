/**
 * Deploys: an uploaded source archive is checked and unpacked (nothing leaves its root), built
 * in a worker, stored as a slug and released. Build output is kept per build while it runs so
 * the CLI can stream it, and stored with the build when it ends.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import {
  type Clock,
  DEFAULT_STACK,
  extractArchive,
  isSlipwayError,
  type Kernel,
  platformNodeMember,
  type SlugStore,
  sharedNodeDir,
  systemClock,
} from '@slipway/core';
import { runBuildInWorker } from './build-runner.js';
import { BuildWorkerPool, type BuildWorkerPoolOptions } from './build-worker-pool.js';
import { takeBuiltSlug } from './built-slug.js';
import { runtimeErrors } from './errors.js';
import type { AppDirs } from './isolation/app-dirs.js';
import type { AppUser, AppUsers } from './isolation/app-users.js';
import { buildEnvironment } from './isolation/build-env.js';
import type { KernelRecipe } from './plugins.js';
import type { ReleaseService } from './release-service.js';
import { BuildSandbox } from './sandbox/build-sandbox.js';
import { type AppStacks, requireStack } from './stack/app-stacks.js';
import { stackErrors } from './stack/errors.js';
import { stackCacheDir } from './stack/stack-builder.js';
import type { AppRecord, BuildRecord } from './state/records.js';
import type { SqliteStateStore } from './state/sqlite-state-store.js';

const execFileP = promisify(execFile);

/** Live output of a running build. */
interface BuildSession {
  lines: string[];
  done: boolean;
  listeners: Set<(line: string | null) => void>;
}

/** Most build output (bytes) shown and stored per build; later lines are counted, not kept. */
export const MAX_BUILD_OUTPUT_BYTES = 8 << 20;

/** Dependencies and limits of deploys. */
export interface DeployServiceOptions {
  state: SqliteStateStore;
  slugs: SlugStore;
  releases: ReleaseService;
  dataDir: string;
  /** Each app's uid: its builds run as it (when the platform is root). */
  users: AppUsers;
  /** Each app's build dir, cache and HOME, reachable by the app's uid only. */
  dirs: AppDirs;
  /** How build workers compose their kernel (the platform's own recipe). */
  recipe: KernelRecipe;
  /** The platform's kernel: its `beforeBuild` / `afterBuild` taps run for every build. */
  kernel?: Pick<Kernel, 'hooks'>;
  /** The time source of its timers (the kernel's `Clock`); default the system's. */
  clock?: Clock;
  /** Unpacked source limit (bytes). */
  maxSourceBytes?: number;
  /** Build timeout; default 25 min (Heroku 2026). */
  buildTimeoutMs?: number;
  /** The stack builds are for (`STACK`); default core's `DEFAULT_STACK`. */
  stack?: string;
  /** Run builds in the stack's build root; without it, on the host. */
  buildSandbox?: BuildSandbox;
  /** The dyno runtime lends no host runtimes: slugs must carry theirs (`DynoRuntime.runtimeInSlug`). */
  runtimeInSlug?: boolean;
  /** Each app's stack (stack/app-stacks.ts); an app on another stack builds in that one's root. */
  stacks?: AppStacks;
  /**
   * Start a worker for each app's next build after a build (build-worker-pool.ts), so a rebuild
   * does not wait for Node, the platform and its plugins to load; `false` turns it off. Default on.
   */
  prestartBuilds?: BuildWorkerPoolOptions | false;
}

/** Runs builds and turns them into releases. */
export class DeployService {
  private readonly sessions = new Map<string, BuildSession>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly cancel = new AbortController();
  private readonly clock: Clock;
  /** Build roots of the stacks other than the platform's, opened at their first build. */
  private readonly otherRoots = new Map<string, Promise<BuildSandbox>>();
  private readonly workers: BuildWorkerPool | undefined;

  constructor(private readonly o: DeployServiceOptions) {
    this.clock = o.clock ?? systemClock;
    if (o.prestartBuilds !== false)
      this.workers = new BuildWorkerPool({ clock: this.clock, ...o.prestartBuilds });
  }

  /**
   * Check and unpack `archive` (a tar.gz the caller owns), create the build and start it.
   * Refusals (unsafe or broken archive) throw before any build record exists. `opts.sourceVersion`
   * (a git commit) names the release: `Deploy 1a2b3c4d`, as Heroku's log shows it.
   */
  async start(app: AppRecord, archive: string, opts: { sourceVersion?: string } = {}): Promise<BuildRecord> {
    const id = randomUUID();
    const user = await this.o.users.enforcedUserFor(app.name);
    // Platform-owned while the source is unpacked (nothing of the app's can plant a link in it),
    // then handed to the app's uid as a whole.
    const work = await this.o.dirs.readable(app.name, user, 'build', id);
    const source = join(work, 'src');
    try {
      await extractArchive(archive, source, { maxBytes: this.o.maxSourceBytes ?? 1 << 30 });
      await mkdir(join(work, 'tmp'));
      if (user) await execFileP('chown', ['-hR', `${user.uid}:${user.gid}`, work]);
      await chmod(work, 0o700);
    } catch (e) {
      await rm(work, { recursive: true, force: true });
      throw isSlipwayError(e)
        ? runtimeErrors.SLIPWAY_ERR_RUNTIME_ARCHIVE({ detail: e.message }, { cause: e })
        : e;
    }
    const build = this.o.state.createBuild(app.id);
    const session: BuildSession = { lines: [], done: false, listeners: new Set() };
    this.sessions.set(build.id, session);
    const p = this.run(app, build, source, work, session, user, opts.sourceVersion).finally(() =>
      this.running.delete(p),
    );
    this.running.add(p);
    return build;
  }

  /** Follow a build's output: replays what was written, then live lines; `null` = end. */
  follow(buildId: string, fn: (line: string | null) => void): () => void {
    const s = this.sessions.get(buildId);
    if (!s) {
      for (const l of this.o.state.buildOutput(buildId).split('\n')) if (l) fn(l);
      fn(null);
      return () => {};
    }
    for (const l of s.lines) fn(l);
    if (s.done) {
      fn(null);
      return () => {};
    }
    s.listeners.add(fn);
    return () => s.listeners.delete(fn);
  }

  /** The app is destroyed: remove its build cache, HOME and other dirs, and retire its uid. */
  async forgetApp(app: string): Promise<void> {
    await this.workers?.drop(app);
    await this.o.dirs.remove(app);
    await this.o.users.retire(app);
  }

  /** Wait for running builds (tests). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /** Cancel running builds (their worker process groups are killed) and wait for them to end. */
  async close(): Promise<void> {
    this.cancel.abort();
    await this.idle();
    await this.workers?.close();
  }

  private async run(
    app: AppRecord,
    build: BuildRecord,
    source: string,
    work: string,
    s: BuildSession,
    user: AppUser | undefined,
    sourceVersion: string | undefined,
  ): Promise<void> {
    const { state, slugs, releases } = this.o;
    const emit = (line: string) => {
      s.lines.push(line);
      for (const fn of s.listeners) fn(line);
    };
    // What a build prints is kept (in memory while it runs, then in the state) up to a limit.
    let outputBytes = 0;
    let droppedLines = 0;
    const buildLine = (line: string) => {
      outputBytes += line.length + 1;
      if (outputBytes > MAX_BUILD_OUTPUT_BYTES) droppedLines++;
      else emit(line);
    };
    const reportDropped = () => {
      if (droppedLines)
        emit(
          ` !     ${droppedLines} more lines of build output were dropped (a build shows at most ${MAX_BUILD_OUTPUT_BYTES >> 20} MB)`,
        );
      droppedLines = 0;
    };
    const slugFile = join(work, 'slug.tgz');
    let startNext: (() => void) | undefined;
    let status: 'succeeded' | 'failed' = 'failed';
    let error: string | undefined;
    let slugId: string | undefined;
    let version: number | undefined;
    try {
      const { dirs } = this.o;
      const home = await dirs.owned(app.name, user, 'home');
      const env = await buildEnvironment({ home, tmp: join(work, 'tmp'), isolated: user !== undefined });
      if (sourceVersion) env.SOURCE_VERSION = sourceVersion;
      // The platform's Node.js, shared by every app's slug (made once per machine and version).
      const node = await platformNodeMember();
      if (node) env.SLIPWAY_PLATFORM_NODE = sharedNodeDir(node);
      releases.event(app.name, `Build ${build.id} started`);
      const stack = this.o.stacks?.of(app.id) ?? this.o.stack ?? DEFAULT_STACK.id;
      const sandbox = await this.buildRoot(stack);
      if (sandbox) emit(`-----> Build root: the ${stack} stack's, in its own namespaces`);
      const out = await runBuildInWorker(
        {
          recipe: this.o.recipe,
          source,
          app: app.name,
          cacheDir: await dirs.owned(app.name, user, 'cache'),
          workDir: work,
          env: state.config(app.id),
          output: slugFile,
          buildpacks: app.buildpacks,
          buildpacksDir: await dirs.owned(app.name, user, 'buildpacks'),
          // The fence: the build's dirs bound through it, its dynos' and slugs' dirs hidden.
          appDir: await dirs.app(app.name, user),
          timeoutMs: this.o.buildTimeoutMs ?? 25 * 60_000,
          ...(node ? { sharedMembers: dirname(node.dir) } : {}),
          stack,
          ...(this.o.runtimeInSlug ? { runtimeInSlug: true } : {}),
          ...(user ? { user } : {}),
        },
        buildLine,
        this.cancel.signal,
        {
          env,
          cwd: work,
          clock: this.clock,
          ...(this.o.kernel ? { hooks: this.o.kernel.hooks } : {}),
          ...(sandbox ? { sandbox } : {}),
          // The app's builds are its `build` dir's entries (AppDirs): a worker for the next binds
          // it. It starts once this build's release is out (below), not competing with it.
          ...(this.workers
            ? { warm: { pool: this.workers, buildsDir: dirname(work), defer: (f) => (startNext = f) } }
            : {}),
        },
      ).finally(reportDropped);
      const taken = await this.takeSlug(out.slug.path, build.id);
      const ref = await slugs.put(taken.file, taken.checksum);
      const slug = state.putSlug({
        checksum: ref.checksum,
        size: ref.size,
        processTypes: out.processTypes,
        buildpacks: out.buildpacks,
        // The stack it was built in, as the platform chose it (the worker runs as the app).
        stack,
        appJson: out.appJson,
      });
      slugId = slug.checksum;
      emit('-----> Launching...');
      const rel = await releases.deploy(
        app,
        slug,
        `Deploy ${(sourceVersion ?? build.id).slice(0, 8)}`,
        out.configDefaults,
      );
      version = rel.version;
      emit(`       Released v${rel.version}`);
      status = 'succeeded';
    } catch (e) {
      error = isSlipwayError(e) ? e.message : (e as Error).message;
      const hint = isSlipwayError(e) ? e.hint : undefined;
      emit(` !     ${error}`);
      if (hint) emit(` !     ${hint}`);
      emit(
        slugId
          ? ' !     Release failed; the previous release keeps serving.'
          : ' !     Build failed; the running release is unchanged.',
      );
      // A built slug that failed to release still counts as a successful build (Heroku too).
      if (slugId && version === undefined) status = 'succeeded';
    } finally {
      state.finishBuild(build.id, {
        status,
        ...(slugId ? { slug: slugId } : {}),
        ...(error ? { error } : {}),
        ...(version ? { releaseVersion: version } : {}),
        output: s.lines.join('\n'),
      });
      s.done = true;
      for (const fn of s.listeners) fn(null);
      s.listeners.clear();
      // Keep the session a little for late followers, then rely on the stored output.
      this.clock.setTimeout(() => this.sessions.delete(build.id), 60_000);
      await rm(work, { recursive: true, force: true }).catch(() => {});
      releases.event(app.name, `Build ${build.id} ${error ? `failed: ${error}` : 'succeeded'}`);
      startNext?.();
    }
  }

  /**
   * The build root of `stack`: the platform's own (opened at start; none = on the host), or
   * another stack's, opened at its first build. That one must be built: an app never falls
   * back to the host when its stack is missing, it fails with the command that builds it.
   */
  private async buildRoot(stack: string): Promise<BuildSandbox | undefined> {
    if (stack === (this.o.stack ?? DEFAULT_STACK.id)) return this.o.buildSandbox;
    await requireStack(stack);
    let root = this.otherRoots.get(stack);
    if (!root) {
      root = BuildSandbox.open({
        buildRoot: join(stackCacheDir(), stack, 'build'),
        workDir: join(this.o.dirs.root, 'build-roots'),
      });
      this.otherRoots.set(stack, root);
      // A failed open is tried again at the next build (the stack may be built meanwhile).
      root.catch(() => this.otherRoots.delete(stack));
    }
    return root.catch((e) => {
      throw stackErrors.SLIPWAY_ERR_STACK_BUILD_ROOT(
        { name: stack, detail: (e as Error).message },
        { cause: e },
      );
    });
  }

  /**
   * Copy the slug the build wrote (a file the app's uid owns) to a private file: never through
   * a symlink, only a regular file, and what is stored is what was copied.
   */
  private async takeSlug(file: string, buildId: string): Promise<{ file: string; checksum: string }> {
    const dir = join(this.o.dataDir, 'tmp');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const copy = join(dir, `slug-${buildId}.tgz`);
    return { file: copy, checksum: await takeBuiltSlug(file, copy) };
  }
}

/** Stream an upload to a file under the data dir, refusing more than `limit` bytes (413). */
export async function receiveUpload(req: IncomingMessage, dataDir: string, limit: number): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    throw runtimeErrors.SLIPWAY_ERR_RUNTIME_BODY_TOO_LARGE({ limit });
  }
  await mkdir(join(dataDir, 'tmp'), { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'tmp', `upload-${randomUUID()}.tgz`);
  let size = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > limit) cb(runtimeErrors.SLIPWAY_ERR_RUNTIME_BODY_TOO_LARGE({ limit }));
      else cb(null, chunk);
    },
  });
  try {
    await pipeline(req, cap, createWriteStream(file, { mode: 0o600 }));
  } catch (e) {
    await rm(file, { force: true });
    req.resume();
    throw e;
  }
  return file;
}
