// Over 400 lines: the DynoRuntime contract over process groups; process, memory, pids, dirs are apart.
/**
 * The `local` dyno runtime: every dyno is a process group on this machine. When the platform
 * is root each app has its own uid (isolation/app-users.ts) and everything a dyno may reach
 * sits behind its app's fence in the runtime dir (isolation/app-dirs.ts): its app's slugs,
 * unpacked once per checksum and shared read-only by the app's dynos (see slug-cache.ts), and
 * its own writable HOME/TMPDIR. Dynos are memory-limited (memory.ts) and pids-limited (pids.ts)
 * with the best mechanism of the host.
 *
 * After a platform restart this runtime does not adopt old dynos: their stdout/stderr pipes
 * died with the old platform process, so they could no longer log. It kills the process
 * groups recorded in the runtime dir instead (checking the process start time so a recycled pid
 * is never hit) and the dyno manager starts the formation again.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  type Clock,
  type DynoHandle,
  type DynoRuntime,
  type DynoSpec,
  type DynoStatus,
  freePort,
  type OneOffSession,
  type OneOffSpec,
  type SlugStore,
  systemClock,
} from '@slipway/core';
import { AppDirs } from '../isolation/app-dirs.js';
import { type AppUser, AppUsers } from '../isolation/app-users.js';
import { reachablePath } from '../isolation/build-env.js';
import { type AppLayer, appLayer } from '../sandbox/app-layer.js';
import type { ToolchainPath } from '../sandbox/host-toolchains.js';
import { SANDBOX_PATH, Sandbox } from '../sandbox/sandbox.js';
import { knownStack } from '../stack/app-stacks.js';
import { stackErrors } from '../stack/errors.js';
import { stackCacheDir } from '../stack/stack-builder.js';
import { DEFAULT_STACK } from '../stack/stack-packages.js';
import { DynoProcess } from './dyno-process.js';
import { dynoErrors } from './errors.js';
import {
  DynoCgroup,
  detectMemoryMechanism,
  liveProcessGroups,
  type MemoryMechanism,
  processStartTime,
  rssByProcessGroup,
} from './memory.js';
import { RuntimeOneOffSession } from './one-off-session.js';
import { detectPidsMechanism, PidsCgroup, type PidsMechanism, pidsLimitFor } from './pids.js';
import { SlugCache } from './slug-cache.js';

const execFileP = promisify(execFile);

/** Why `auto` does not sandbox a platform that is not root. */
const NOT_ROOT =
  'the platform is not root, so it cannot mount /app overlays nor lend the host toolchains slugs need (pass --runtime sandbox to sandbox anyway)';

/** Options of the local runtime. */
export interface LocalDynoRuntimeOptions {
  /** Platform data dir (the uid table lives there; the runtime dir defaults to `<dataDir>/run`). */
  dataDir: string;
  slugStore: SlugStore;
  /**
   * Who dynos run as when the platform runs as root: one uid per app (the default, from
   * `uidBase` up, see isolation/app-users.ts), so apps cannot signal each other's processes,
   * read each other's environment (config vars) from /proc or each other's files; a user name
   * for every dyno (no isolation between apps); false keeps root. Ignored when not root.
   */
  runAsUser?: string | false | { uidBase?: number };
  /** The per-app uid table to share with builds (default: opened from `dataDir`). */
  users?: AppUsers;
  /** The per-app dirs to share with builds (default: opened for `dataDir`). */
  dirs?: AppDirs;
  /** `auto` (default) picks a pids cgroup, else RLIMIT_NPROC per app uid; `none` disables limits. */
  pids?: PidsMechanism | 'auto' | 'none';
  /** `auto` (default) picks cgroup v2, cgroup v1 or polling; `none` disables limits. */
  memory?: MemoryMechanism | 'auto';
  /** How often memory is sampled (R14 logging, polling limit); default 5000 ms. */
  memoryPollMs?: number;
  /** The time source of the memory sampler and one-offs' idle hang-up (the kernel's `Clock`); default the system's. */
  clock?: Clock;
  /** An unpacked slug no dyno has used for this long is deleted; default 10 min. */
  slugIdleMs?: number;
  /** Address dynos are reached at; default 127.0.0.1. */
  host?: string;
  /** PATH given to dynos; default the platform's PATH (the local stack is the host). */
  path?: string;
  /**
   * Run each dyno in a sandbox (sandbox/sandbox.ts): bubblewrap namespaces in the stack root,
   * `/app` writable and ephemeral, `HOME=/app`. `stackRoot` defaults to the built stack
   * `slipway-13`'s run root in the stack cache. Where bwrap, namespaces or the stack are missing,
   * dynos run as plain processes and `warnings` says why. `auto`: only a full sandbox (root, so
   * overlays and the host toolchains lent) is used; anything less runs plain processes.
   */
  sandbox?: boolean | { stackRoot?: string; toolchains?: ToolchainPath[]; auto?: boolean };
}

/** What the runtime keeps about a running dyno. */
interface LocalDyno {
  handle: DynoHandle;
  proc: DynoProcess;
  layer: AppLayer | undefined;
  cgroup: DynoCgroup | undefined;
  pidsCgroup: PidsCgroup | undefined;
  quotaBytes: number;
  dir: string;
  oneOff: boolean;
}

/** What is persisted per dyno so a restarted platform can kill leftovers. */
interface DynoRecord {
  pid: number;
  start: string;
  cgroup?: string;
  pidsCgroup?: string;
}

/**
 * Runs dynos as local process groups. Events (core `DynoRuntime`): `output` (handle, line,
 * stream), `exit` (handle, code, signal, DynoExit with `status` and `reason`), `memory`
 * (handle, usedBytes, quotaBytes).
 */
export class LocalDynoRuntime extends EventEmitter implements DynoRuntime {
  /** The memory mechanism in use, known after the first start/list (or `init()`). */
  mechanism: MemoryMechanism | undefined;
  /** The pids mechanism in use, known after `init()`. */
  pidsMechanism: PidsMechanism | 'none' | undefined;
  /** The sandbox dynos run in, after `init()` (undefined: plain processes). */
  sandbox: Sandbox | undefined;
  /** Sandboxes of the other stacks' run roots, by root (slugs built in another stack). */
  private readonly stackSandboxes = new Map<string, Promise<Sandbox>>();
  /** What the operator must know (e.g. a sandbox that was asked for and is unavailable). */
  readonly warnings: string[] = [];
  private readonly opts: LocalDynoRuntimeOptions;
  /** Unpacked slugs, one cache per app (behind the app's fence). */
  private readonly slugCaches = new Map<string, SlugCache>();
  private readonly dynos = new Map<string, LocalDyno>();
  private initP: Promise<void> | undefined;
  /** One user for every dyno (`runAsUser: 'name'`). */
  private user: AppUser | undefined;
  /** One uid per app (the default as root). */
  private users: AppUsers | undefined;
  private dirs!: AppDirs;
  private dynoPath = '';
  private timer: { cancel(): void } | undefined;
  private readonly usedRunNumbers = new Set<string>();
  private readonly stoppingIds = new Set<string>();
  private readonly portsInUse = new Set<number>();

  constructor(opts: LocalDynoRuntimeOptions) {
    super();
    this.opts = opts;
  }

  /** Prepare dirs, find the dyno user and the memory mechanism, kill leftovers of a previous run. */
  init(): Promise<void> {
    this.initP ??= this.doInit();
    return this.initP;
  }

  private async doInit(): Promise<void> {
    this.dirs = this.opts.dirs ?? (await AppDirs.open(this.opts.dataDir));
    const wanted = this.opts.runAsUser ?? {};
    if (process.getuid?.() === 0 && typeof wanted === 'string') {
      try {
        const [u, g] = await Promise.all([execFileP('id', ['-u', wanted]), execFileP('id', ['-g', wanted])]);
        this.user = { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
      } catch (e) {
        throw dynoErrors.SLIPWAY_ERR_DYNO_USER({ user: wanted, detail: (e as Error).message }, { cause: e });
      }
    } else if (typeof wanted === 'object')
      this.users =
        this.opts.users ??
        (await AppUsers.open(
          this.opts.dataDir,
          wanted.uidBase !== undefined ? { uidBase: wanted.uidBase } : {},
        ));
    const isolated = this.user !== undefined || this.users?.enforced === true;
    this.dynoPath = await reachablePath(
      this.opts.path ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      isolated,
    );
    if (this.opts.sandbox) await this.openSandbox();
    const memory = this.opts.memory ?? 'auto';
    this.mechanism = memory === 'auto' ? await detectMemoryMechanism() : memory;
    const pids = this.opts.pids ?? 'auto';
    this.pidsMechanism = pids === 'auto' ? await detectPidsMechanism() : pids;
    await this.killLeftovers();
    for (const app of await readdir(join(this.dirs.root, 'apps')).catch(() => [] as string[]))
      await this.slugsOf(app).adoptExisting(this.slugIdleMs);
    if (this.mechanism !== 'none') {
      const clock = this.opts.clock ?? systemClock;
      const every = this.opts.memoryPollMs ?? 5000;
      const arm = () => {
        this.timer = clock.setTimeout(() => {
          void this.sampleMemory();
          arm();
        }, every);
      };
      arm();
    }
  }

  private async openSandbox(): Promise<void> {
    const o = typeof this.opts.sandbox === 'object' ? this.opts.sandbox : {};
    const stackRoot = o.stackRoot ?? join(stackCacheDir(), DEFAULT_STACK, 'run');
    try {
      if (o.auto && process.getuid?.() !== 0) throw new Error(NOT_ROOT);
      const sandbox = await Sandbox.open({
        stackRoot,
        workDir: this.dirs.root,
        ...(o.toolchains ? { toolchains: o.toolchains } : {}),
      });
      if (o.auto && !sandbox.overlays) throw new Error(NOT_ROOT);
      this.sandbox = sandbox;
    } catch (e) {
      const w = `dynos are NOT sandboxed: ${(e as Error).message}. They run as plain processes on the host (no private /app, /tmp, PID or mount namespace).`;
      this.warnings.push(w);
      console.warn(`WARNING: ${w}`);
    }
  }

  /**
   * The sandbox of a slug's stack: the runtime's own, or another built stack's run root (opened
   * at its first dyno, with the same tools and toolchains); a stack whose root cannot be opened
   * fails with the reason. A runtime of plain processes runs every slug on the host, as its
   * builds then ran (sandboxes and stack builds both need root and bubblewrap).
   */
  private async sandboxFor(stack: string | undefined): Promise<Sandbox | undefined> {
    if (!this.sandbox) return undefined;
    const o = typeof this.opts.sandbox === 'object' ? this.opts.sandbox : {};
    const own = o.stackRoot ?? join(stackCacheDir(), DEFAULT_STACK, 'run');
    if (stack) knownStack(stack);
    const root = stack ? join(stackCacheDir(), stack, 'run') : own;
    if (root === own) return this.sandbox;
    let opened = this.stackSandboxes.get(root);
    if (!opened) {
      opened = Sandbox.open({
        stackRoot: root,
        workDir: this.dirs.root,
        ...(o.toolchains ? { toolchains: o.toolchains } : {}),
      });
      this.stackSandboxes.set(root, opened);
      opened.catch(() => this.stackSandboxes.delete(root));
    }
    return opened.catch((e) => {
      throw stackErrors.SLIPWAY_ERR_STACK_NO_SANDBOX(
        { name: stack as string, detail: (e as Error).message },
        { cause: e },
      );
    });
  }

  /** The name of the stack whose run root is the runtime's own. */
  private ownStack(): string {
    const o = typeof this.opts.sandbox === 'object' ? this.opts.sandbox : {};
    return o.stackRoot ? basename(dirname(o.stackRoot)) : DEFAULT_STACK;
  }

  /** The unpacked-slug cache of an app (its dir is created with the app's fence on first unpack). */
  private slugsOf(app: string): SlugCache {
    let c = this.slugCaches.get(app);
    if (!c) {
      // Sandboxed: the app owns its slug's files as on Heroku (dynos write through an overlay).
      c = this.sandbox
        ? new SlugCache(
            join(this.dirs.root, 'apps', app, 'sandbox-slugs'),
            this.opts.slugStore,
            () => this.userFor(app),
            this.opts.clock,
          )
        : new SlugCache(
            join(this.dirs.root, 'apps', app, 'slugs'),
            this.opts.slugStore,
            undefined,
            this.opts.clock,
          );
      this.slugCaches.set(app, c);
    }
    return c;
  }

  /** Start a dyno of a release; resolves once its process runs (binding PORT is the manager's check). */
  async start(spec: DynoSpec): Promise<DynoHandle> {
    await this.init();
    const dyno = `${spec.type}.${spec.index}`;
    const port = spec.port ?? (spec.type === 'web' ? await this.allocatePort() : undefined);
    try {
      return (await this.launch(spec, dyno, port, undefined)).handle;
    } catch (e) {
      if (port !== undefined) this.portsInUse.delete(port);
      throw e;
    }
  }

  /** SIGTERM the dyno's process group, SIGKILL after `graceMs`; resolves when all of it is gone. */
  async stop(handle: DynoHandle, graceMs: number): Promise<void> {
    const d = this.dynos.get(handle.id);
    if (!d) return;
    this.stoppingIds.add(d.handle.id);
    await d.proc.stop(graceMs, this.opts.clock);
    await this.settled(handle.id);
  }

  /** Start a one-off dyno (`run.N`): attached with streams (and a pty under `script` when `tty`), or detached to the logs. */
  async runOnce(spec: OneOffSpec): Promise<OneOffSession> {
    await this.init();
    let n: string;
    do n = String(randomInt(1000, 10000));
    while (this.usedRunNumbers.has(`${spec.app}/${spec.type}.${n}`));
    const key = `${spec.app}/${spec.type}.${n}`;
    this.usedRunNumbers.add(key);
    const oneOff = { attach: spec.attach, ...(spec.tty ? { tty: spec.tty } : {}) };
    const d = await this.launch({ ...spec, index: Number(n) }, `${spec.type}.${n}`, undefined, oneOff).catch(
      (e) => {
        this.usedRunNumbers.delete(key);
        throw e;
      },
    );
    const { proc } = d;
    const session = new RuntimeOneOffSession(d.handle, {
      ...(spec.attach ? { streams: proc, idleTimeoutMs: spec.idleTimeoutMs } : {}),
      ...(this.opts.clock ? { clock: this.opts.clock } : {}),
      exit: proc.exited,
      kill: (signal) => proc.killGroup(signal),
      resize: (columns, rows) => void proc.resize(columns, rows),
    });
    void session.exited.then(() => this.usedRunNumbers.delete(key));
    return session;
  }

  /** The dynos this runtime runs now (leftovers of an earlier platform process are killed, not listed). */
  async list(app?: string): Promise<DynoStatus[]> {
    await this.init();
    const out: DynoStatus[] = [];
    for (const d of this.dynos.values())
      if (app === undefined || d.handle.app === app)
        out.push({ ...d.handle, state: this.stoppingIds.has(d.handle.id) ? 'stopping' : 'up' });
    return out;
  }

  /** Stop every dyno (SIGTERM, SIGKILL after `graceMs`) and the memory sampler. */
  async close(graceMs = 10_000): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    for (const c of this.slugCaches.values()) c.close();
    await Promise.all([...this.dynos.values()].map((d) => this.stop(d.handle, graceMs)));
  }

  /** Remove an unpacked slug (no release runs it any more), from every app that has it. */
  async removeSlug(ref: DynoSpec['slug']): Promise<void> {
    await Promise.all([...this.slugCaches.values()].map((c) => c.remove(ref)));
  }

  /** The uid/gid an app's dynos run as, or undefined to stay as we are. */
  private async userFor(app: string): Promise<AppUser | undefined> {
    return this.users ? this.users.enforcedUserFor(app) : this.user;
  }

  /** A free port no live dyno of this runtime was given (the OS may hand one out again before it is bound). */
  private async allocatePort(): Promise<number> {
    for (;;) {
      const port = await freePort(this.host);
      if (this.portsInUse.has(port)) continue;
      this.portsInUse.add(port);
      return port;
    }
  }

  private get slugIdleMs(): number {
    return this.opts.slugIdleMs ?? 10 * 60_000;
  }

  private get host(): string {
    return this.opts.host ?? '127.0.0.1';
  }

  private readonly settledWaiters = new Map<string, Promise<void>>();
  private settled(id: string): Promise<void> {
    return this.settledWaiters.get(id) ?? Promise.resolve();
  }

  private async launch(
    spec: DynoSpec,
    dyno: string,
    port: number | undefined,
    oneOff: { attach: boolean; tty?: { columns: number; rows: number } } | undefined,
  ): Promise<LocalDyno> {
    const sandbox = await this.sandboxFor(spec.slug.stack);
    const slugs = this.slugsOf(spec.app);
    slugs.acquire(spec.slug);
    const user = await this.userFor(spec.app);
    let appDir: string;
    try {
      await this.dirs.readable(spec.app, user, this.sandbox ? 'sandbox-slugs' : 'slugs');
      appDir = await slugs.ensure(spec.slug);
    } catch (e) {
      slugs.release(spec.slug, this.slugIdleMs);
      throw e;
    }
    const id = `${spec.app}.${dyno}.${randomBytes(4).toString('hex')}`;
    const dir = join(this.dirs.root, 'apps', spec.app, 'dynos', id);
    const home = join(dir, 'home');
    const pidsMax = pidsLimitFor(spec.size.memoryMb);
    const env: Record<string, string> = {
      PATH: sandbox ? SANDBOX_PATH : this.dynoPath,
      HOME: sandbox ? '/app' : home,
      TMPDIR: sandbox ? '/tmp' : join(home, 'tmp'),
      LANG: 'C.UTF-8',
      // As a Docker stack image's ENV: the stack the dyno runs in, which its slug was built in.
      ...(sandbox ? { STACK: spec.slug.stack ?? this.ownStack() } : {}),
      ...spec.env,
      DYNO: dyno,
      ...(port !== undefined ? { PORT: String(port) } : {}),
      // RLIMIT_NPROC counts the whole uid: only a per-app uid makes it a per-app limit.
      ...(this.pidsMechanism === 'nproc' && this.users?.enforced ? { SLIPWAY_NPROC: String(pidsMax) } : {}),
    };
    const quotaBytes = spec.size.memoryMb * 1024 * 1024;
    let cgroup: DynoCgroup | undefined;
    let pidsCgroup: PidsCgroup | undefined;
    const mech = this.mechanism;
    const attach = oneOff?.attach === true;
    const tty = attach ? oneOff?.tty : undefined;
    let proc: DynoProcess;
    let layer: AppLayer | undefined;
    try {
      await this.dirs.owned(spec.app, user, 'dynos', id, 'home');
      await mkdir(join(home, 'tmp'), { mode: 0o700 });
      if (user) await chown(join(home, 'tmp'), user.uid, user.gid);
      if (mech === 'cgroup1' || mech === 'cgroup2')
        cgroup = await DynoCgroup.create(mech === 'cgroup1' ? 1 : 2, id, quotaBytes * 2);
      const pm = this.pidsMechanism;
      if (pm === 'cgroup1' || pm === 'cgroup2') pidsCgroup = await PidsCgroup.create(pm, id, pidsMax);
      if (sandbox) layer = await appLayer(appDir, dir, user, sandbox.overlays);
      proc = await DynoProcess.spawn({
        command: spec.command,
        cwd: sandbox ? dir : appDir,
        env,
        ...(user ?? {}),
        ...(sandbox ? { wrap: sandbox.wrap(user, layer, dir, id) } : {}),
        ...(tty ? { tty } : {}),
        stdin: attach,
        lines: !attach,
        beforeGo: async (pid) => {
          await cgroup?.add(pid);
          await pidsCgroup?.add(pid);
          const rec: DynoRecord = {
            pid,
            start: (await processStartTime(pid)) ?? '',
            ...(cgroup ? { cgroup: cgroup.path } : {}),
            ...(pidsCgroup ? { pidsCgroup: pidsCgroup.path } : {}),
          };
          await writeFile(join(dir, 'dyno.json'), JSON.stringify(rec));
        },
      });
    } catch (e) {
      await pidsCgroup?.remove();
      await cgroup?.remove();
      await rm(dir, { recursive: true, force: true });
      slugs.release(spec.slug, this.slugIdleMs);
      if (port !== undefined) this.portsInUse.delete(port);
      throw dynoErrors.SLIPWAY_ERR_DYNO_SPAWN(
        { app: spec.app, dyno, detail: (e as Error).message, dataDir: this.opts.dataDir },
        { cause: e },
      );
    }
    const handle: DynoHandle = {
      id,
      app: spec.app,
      release: spec.release,
      type: spec.type,
      index: spec.index,
      ...(port !== undefined ? { host: this.host, port } : {}),
      startedAt: Date.now(),
    };
    const d: LocalDyno = {
      handle,
      proc,
      layer,
      cgroup,
      pidsCgroup,
      quotaBytes,
      dir,
      oneOff: oneOff !== undefined,
    };
    this.dynos.set(id, d);
    proc.on('line', (line: string, stream: string) => this.emit('output', handle, line, stream));
    // The L10 notice of lines dropped over the dyno's log budget: a platform line, not the app's.
    proc.on('dropped', (message: string) => this.emit('output', handle, message, 'platform'));
    this.settledWaiters.set(
      id,
      proc.exited.then(async (exit) => {
        if (cgroup && exit.reason === undefined && (await cgroup.oomKills()) > 0) exit.reason = 'memory';
        this.dynos.delete(id);
        this.stoppingIds.delete(id);
        if (port !== undefined) this.portsInUse.delete(port);
        slugs.release(spec.slug, this.slugIdleMs);
        // Whatever escaped the process group (setsid) is still in the pids cgroup: killed here.
        await pidsCgroup?.remove();
        await cgroup?.remove();
        await rm(dir, { recursive: true, force: true }).catch(() => {});
        this.settledWaiters.delete(id);
        this.emit('exit', handle, exit.code, exit.signal, exit);
      }),
    );
    return d;
  }

  private async sampleMemory(): Promise<void> {
    const dynos = [...this.dynos.values()];
    if (dynos.length === 0) return;
    const byGroup = this.mechanism === 'poll' ? await rssByProcessGroup() : undefined;
    await Promise.all(
      dynos.map(async (d) => {
        try {
          const used = d.cgroup ? await d.cgroup.usage() : (byGroup?.get(d.proc.pid) ?? 0);
          if (!this.dynos.has(d.handle.id)) return;
          this.emit('memory', d.handle, used, d.quotaBytes);
          // cgroup: the kernel OOM-killed one process; Heroku's R15 ends the whole dyno.
          if (d.cgroup ? (await d.cgroup.oomKills()) > 0 : used > 2 * d.quotaBytes) d.proc.killForMemory();
        } catch {
          // The dyno exited between listing and sampling.
        }
      }),
    );
  }

  private async killLeftovers(): Promise<void> {
    const appsDir = join(this.dirs.root, 'apps');
    const dynoDirs: string[] = [];
    for (const app of await readdir(appsDir).catch(() => [] as string[]))
      for (const entry of await readdir(join(appsDir, app, 'dynos')).catch(() => [] as string[]))
        dynoDirs.push(join(appsDir, app, 'dynos', entry));
    for (const dir of dynoDirs) {
      try {
        const rec = JSON.parse(await readFile(join(dir, 'dyno.json'), 'utf8')) as DynoRecord;
        if (rec.start && (await processStartTime(rec.pid)) === rec.start) {
          try {
            process.kill(-rec.pid, 'SIGKILL');
          } catch {}
          for (let i = 0; i < 100 && (await liveProcessGroups()).has(rec.pid); i++)
            await new Promise((r) => setTimeout(r, 20));
        }
        if (rec.pidsCgroup) await PidsCgroup.adopt(rec.pidsCgroup).remove();
        if (rec.cgroup) await DynoCgroup.adopt(rec.cgroup).remove();
      } catch {
        // No record: the dyno never got going; only its directory is left.
      }
      await rm(dir, { recursive: true, force: true });
    }
  }
}
