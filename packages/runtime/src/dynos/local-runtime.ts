/**
 * The `local` dyno runtime: every dyno is a process group on this machine. Slugs are unpacked
 * once per checksum and shared read-only (see slug-cache.ts); each dyno gets its own writable
 * HOME/TMPDIR under `<dataDir>/dynos/<id>`, runs as an unprivileged user when the platform runs
 * as root, and is memory-limited with the best mechanism of the host (see memory.ts).
 *
 * After a platform restart this runtime does not adopt old dynos: their stdout/stderr pipes
 * died with the old platform process, so they could no longer log. It kills the process
 * groups recorded in the data dir instead (checking the process start time so a recycled pid
 * is never hit) and the dyno manager starts the formation again.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import type {
  DynoHandle,
  DynoRuntime,
  DynoSpec,
  DynoStatus,
  OneOffSession,
  OneOffSpec,
  SlugStore,
} from '@slipway/core';
import { type DynoExit, DynoProcess } from './dyno-process.js';
import { dynoErrors } from './errors.js';
import {
  DynoCgroup,
  detectMemoryMechanism,
  liveProcessGroups,
  type MemoryMechanism,
  processStartTime,
  rssByProcessGroup,
} from './memory.js';
import { SlugCache } from './slug-cache.js';

const execFileP = promisify(execFile);

/** Options of the local runtime. */
export interface LocalDynoRuntimeOptions {
  /** Platform data dir; the runtime uses `slugs/` and `dynos/` inside it. */
  dataDir: string;
  slugStore: SlugStore;
  /**
   * Who dynos run as when the platform runs as root: a user name for every dyno (default
   * `nobody`); `{ uidBase }` for one uid per app from `uidBase` up (no passwd entry needed),
   * so apps cannot signal each other's processes or read each other's environment (config
   * vars) from /proc; false keeps root. Ignored when the platform is not root.
   */
  runAsUser?: string | false | { uidBase: number };
  /** `auto` (default) picks cgroup v2, cgroup v1 or polling; `none` disables limits. */
  memory?: MemoryMechanism | 'auto';
  /** How often memory is sampled (R14 logging, polling limit); default 5000 ms. */
  memoryPollMs?: number;
  /** An unpacked slug no dyno has used for this long is deleted; default 10 min. */
  slugIdleMs?: number;
  /** Address dynos are reached at; default 127.0.0.1. */
  host?: string;
  /** PATH given to dynos; default the platform's PATH (the local stack is the host). */
  path?: string;
}

/** What the runtime keeps about a running dyno. */
interface LocalDyno {
  handle: DynoHandle;
  proc: DynoProcess;
  cgroup: DynoCgroup | undefined;
  quotaBytes: number;
  dir: string;
  oneOff: boolean;
}

/** What is persisted per dyno so a restarted platform can kill leftovers. */
interface DynoRecord {
  pid: number;
  start: string;
  cgroup?: string;
}

/**
 * Runs dynos as local process groups. Events (core `DynoRuntime`): `output` (handle, line,
 * stream), `exit` (handle, code, signal, DynoExit with `status` and `reason`), `memory`
 * (handle, usedBytes, quotaBytes).
 */
export class LocalDynoRuntime extends EventEmitter implements DynoRuntime {
  /** The memory mechanism in use, known after the first start/list (or `init()`). */
  mechanism: MemoryMechanism | undefined;
  private readonly opts: LocalDynoRuntimeOptions;
  private readonly slugs: SlugCache;
  private readonly dynosDir: string;
  private readonly dynos = new Map<string, LocalDyno>();
  private initP: Promise<void> | undefined;
  private user: { uid: number; gid: number } | undefined;
  /** Per-app uids (`runAsUser: { uidBase }`), persisted so an app keeps its uid across restarts. */
  private appUids: Record<string, number> | undefined;
  private uidFile = '';
  private uidWrite: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly usedRunNumbers = new Set<string>();
  private readonly stoppingIds = new Set<string>();
  private readonly portsInUse = new Set<number>();

  constructor(opts: LocalDynoRuntimeOptions) {
    super();
    this.opts = opts;
    this.slugs = new SlugCache(join(opts.dataDir, 'slug-cache'), opts.slugStore);
    this.dynosDir = join(opts.dataDir, 'dynos');
  }

  /** Prepare dirs, find the dyno user and the memory mechanism, kill leftovers of a previous run. */
  init(): Promise<void> {
    this.initP ??= this.doInit();
    return this.initP;
  }

  private async doInit(): Promise<void> {
    await mkdir(this.dynosDir, { recursive: true, mode: 0o755 });
    await mkdir(this.slugs.dir, { recursive: true, mode: 0o755 });
    const wantedUser = this.opts.runAsUser ?? 'nobody';
    if (process.getuid?.() === 0 && wantedUser !== false) {
      const name = typeof wantedUser === 'string' ? wantedUser : `uid ${wantedUser.uidBase}+`;
      if (typeof wantedUser === 'string') {
        try {
          const [u, g] = await Promise.all([execFileP('id', ['-u', name]), execFileP('id', ['-g', name])]);
          this.user = { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
        } catch (e) {
          throw dynoErrors.SLIPWAY_ERR_DYNO_USER({ user: name, detail: (e as Error).message }, { cause: e });
        }
      } else {
        this.uidFile = join(this.opts.dataDir, 'dyno-uids.json');
        this.appUids = JSON.parse(await readFile(this.uidFile, 'utf8').catch(() => '{}'));
        this.user = { uid: wantedUser.uidBase, gid: wantedUser.uidBase };
      }
      try {
        await execFileP('test', ['-x', this.slugs.dir, '-a', '-x', this.dynosDir], {
          uid: this.user.uid,
          gid: this.user.gid,
        });
      } catch (e) {
        throw dynoErrors.SLIPWAY_ERR_DYNO_SPAWN(
          {
            app: '(any app)',
            dyno: 'dynos',
            detail: `user ${name} cannot reach ${this.opts.dataDir} (a parent directory is not world-executable)`,
            dataDir: this.opts.dataDir,
          },
          { cause: e },
        );
      }
    }
    const wanted = this.opts.memory ?? 'auto';
    this.mechanism = wanted === 'auto' ? await detectMemoryMechanism() : wanted;
    await this.killLeftovers();
    await this.slugs.adoptExisting(this.slugIdleMs);
    if (this.mechanism !== 'none') {
      this.timer = setInterval(() => void this.sampleMemory(), this.opts.memoryPollMs ?? 5000);
      this.timer.unref();
    }
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
    await d.proc.stop(graceMs);
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
    const session = new LocalOneOffSession(d.handle, d.proc, spec);
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
    clearInterval(this.timer);
    this.slugs.close();
    await Promise.all([...this.dynos.values()].map((d) => this.stop(d.handle, graceMs)));
  }

  /** Remove an unpacked slug (no release runs it any more). */
  removeSlug(ref: DynoSpec['slug']): Promise<void> {
    return this.slugs.remove(ref);
  }

  /** The uid/gid an app's dynos run as (one per app with `{ uidBase }`), or undefined to stay as we are. */
  private async userFor(app: string): Promise<{ uid: number; gid: number } | undefined> {
    const uids = this.appUids;
    if (!uids || !this.user) return this.user;
    let uid = uids[app];
    if (uid === undefined) {
      uid = Math.max(this.user.uid - 1, ...Object.values(uids)) + 1;
      uids[app] = uid;
      const text = JSON.stringify(uids);
      this.uidWrite = this.uidWrite.then(() => writeFile(this.uidFile, text, { mode: 0o600 }));
    }
    await this.uidWrite;
    return { uid, gid: uid };
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
    this.slugs.acquire(spec.slug);
    let appDir: string;
    try {
      appDir = await this.slugs.ensure(spec.slug);
    } catch (e) {
      this.slugs.release(spec.slug, this.slugIdleMs);
      throw e;
    }
    const id = `${spec.app}.${dyno}.${randomBytes(4).toString('hex')}`;
    const dir = join(this.dynosDir, id);
    const home = join(dir, 'home');
    const env: Record<string, string> = {
      PATH: this.opts.path ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: home,
      TMPDIR: join(home, 'tmp'),
      LANG: 'C.UTF-8',
      ...spec.env,
      DYNO: dyno,
      ...(port !== undefined ? { PORT: String(port) } : {}),
    };
    const quotaBytes = spec.size.memoryMb * 1024 * 1024;
    let cgroup: DynoCgroup | undefined;
    const mech = this.mechanism;
    const attach = oneOff?.attach === true;
    const tty = attach ? oneOff?.tty : undefined;
    let proc: DynoProcess;
    try {
      await mkdir(dir, { mode: 0o755 });
      await mkdir(home, { mode: 0o700 });
      await mkdir(join(home, 'tmp'), { mode: 0o700 });
      const user = await this.userFor(spec.app);
      if (user) for (const p of [home, join(home, 'tmp')]) await chown(p, user.uid, user.gid);
      if (mech === 'cgroup1' || mech === 'cgroup2')
        cgroup = await DynoCgroup.create(mech === 'cgroup1' ? 1 : 2, id, quotaBytes * 2);
      proc = await DynoProcess.spawn({
        command: spec.command,
        cwd: appDir,
        env,
        ...(user ?? {}),
        ...(tty ? { tty } : {}),
        stdin: attach,
        lines: !attach,
        beforeGo: async (pid) => {
          await cgroup?.add(pid);
          const rec: DynoRecord = {
            pid,
            start: (await processStartTime(pid)) ?? '',
            ...(cgroup ? { cgroup: cgroup.path } : {}),
          };
          await writeFile(join(dir, 'dyno.json'), JSON.stringify(rec));
        },
      });
    } catch (e) {
      await cgroup?.remove();
      await rm(dir, { recursive: true, force: true });
      this.slugs.release(spec.slug, this.slugIdleMs);
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
    const d: LocalDyno = { handle, proc, cgroup, quotaBytes, dir, oneOff: oneOff !== undefined };
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
        this.slugs.release(spec.slug, this.slugIdleMs);
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
    for (const entry of await readdir(this.dynosDir)) {
      const dir = join(this.dynosDir, entry);
      try {
        const rec = JSON.parse(await readFile(join(dir, 'dyno.json'), 'utf8')) as DynoRecord;
        if (rec.start && (await processStartTime(rec.pid)) === rec.start) {
          try {
            process.kill(-rec.pid, 'SIGKILL');
          } catch {}
          for (let i = 0; i < 100 && (await liveProcessGroups()).has(rec.pid); i++)
            await new Promise((r) => setTimeout(r, 20));
        }
        if (rec.cgroup) await DynoCgroup.adopt(rec.cgroup).remove();
      } catch {
        // No record: the dyno never got going; only its directory is left.
      }
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** A port nobody listens on now (the OS picks it). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A one-off dyno session: streams when attached, logs when detached. */
/** Resolves once everything written to `s` has been written through (its writable side finished). */
function finished(s: PassThrough): Promise<void> {
  return s.writableFinished ? Promise.resolve() : new Promise((r) => s.once('finish', () => setImmediate(r)));
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

class LocalOneOffSession extends EventEmitter implements OneOffSession {
  readonly stdin?: NodeJS.WritableStream;
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  readonly exited: Promise<number>;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    readonly handle: DynoHandle,
    private readonly proc: DynoProcess,
    spec: OneOffSpec,
  ) {
    super();
    if (spec.attach) {
      this.stdout = proc.stdout.pipe(new PassThrough());
      this.stderr = proc.stderr.pipe(new PassThrough());
    } else {
      // Detached output goes to the logs (line events); these stay empty.
      this.stdout = new PassThrough();
      this.stderr = new PassThrough();
      proc.exited.then(() => {
        this.stdout.end();
        this.stderr.end();
      });
    }
    if (proc.stdin) {
      const input = new PassThrough();
      input.pipe(proc.stdin);
      proc.stdin.on('error', () => {});
      this.stdin = input;
    }
    const idleMs = spec.attach ? spec.idleTimeoutMs : undefined;
    if (idleMs) {
      const touch = () => {
        clearTimeout(this.idle);
        this.idle = setTimeout(() => proc.killGroup('SIGHUP'), idleMs);
        this.idle.unref();
      };
      touch();
      proc.stdout.on('data', touch);
      (this.stdin as PassThrough | undefined)?.on('data', touch);
    }
    this.exited = proc.exited.then(async (e: DynoExit) => {
      clearTimeout(this.idle);
      // A process's exit can be reported before its last output is read: an attached session
      // hands over all output first (bounded, in case a leftover child holds the pipes open).
      if (spec.attach)
        await Promise.race([Promise.all([finished(this.stdout), finished(this.stderr)]), delay(2000)]);
      this.emit('exit', e.status, e.signal);
      return e.status;
    });
  }

  /** Resize the dyno's pseudo-terminal (a no-op without one). */
  resize(columns: number, rows: number): void {
    void this.proc.resize(columns, rows);
  }

  /** Signal the whole one-off dyno (default SIGTERM). */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.proc.killGroup(signal);
  }
}
