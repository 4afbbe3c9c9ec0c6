/**
 * A supervised child process for providers that run a backing server (Postgres, Redis, a
 * key/value service): started from an argument array, awaited until `ready()`, restarted with
 * exponential back-off when it dies, stopped with SIGTERM then SIGKILL, its output sent line by
 * line to the provider's redacting log, in pieces of at most 10,000 bytes (a server's log can
 * repeat what an app sent it: PostgreSQL prints the statement of an error, whatever its size).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, constants as fsConstants } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { splitLines } from '@slipway/core';
import { addonErrors } from './errors.js';
import type { ProviderLog } from './redact.js';

/** What to run and how to know it is up. */
export interface SuperviseOptions {
  /** Shown in log lines and errors, e.g. `redis-server`. */
  name: string;
  command: string;
  args?: readonly string[];
  /** Added to the provider's environment (PATH and friends are inherited). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Resolves true once the process serves (e.g. `tcpReady(port)`); absent = ready once spawned. */
  ready?: () => boolean | Promise<boolean>;
  /** How long the first start (and each restart) may take to become ready; default 30 s. */
  readyTimeoutMs?: number;
  /** Time between the stop signal and SIGKILL on stop; default 5 s. */
  stopGraceMs?: number;
  /**
   * Signal that asks the server to stop; default SIGTERM. PostgreSQL wants SIGINT (a "fast"
   * shutdown; SIGTERM waits for clients), Redis takes SIGTERM.
   */
  stopSignal?: NodeJS.Signals;
  /** First restart delay (default 100 ms), doubled per crash up to `maxMs` (default 30 s). */
  backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  /**
   * Log level of a stderr line; default `warn`. Servers that write their ordinary log to stderr
   * (PostgreSQL's `LOG:` lines) say which lines are only information.
   */
  stderrLevel?: (line: string) => 'info' | 'warn';
}

/** A running supervised process. */
export interface Supervised {
  readonly name: string;
  /** Pid of the current incarnation (undefined between a crash and its restart). */
  readonly pid: number | undefined;
  /** How many times it was restarted after a crash. */
  readonly restarts: number;
  /** Stop it for good: SIGTERM, then SIGKILL after the grace period. */
  stop(): Promise<void>;
  /** `crash` (code, signal, delayMs), `restart` (pid), `ready` (pid), `exit` (code, signal), `fatal` (error). */
  on(event: 'crash' | 'restart' | 'ready' | 'exit' | 'fatal', listener: (...args: any[]) => void): this;
}

/** A ready check that resolves true when a TCP connection to host:port succeeds. */
export function tcpReady(port: number, host = '127.0.0.1'): () => Promise<boolean> {
  return () =>
    new Promise((resolve) => {
      const s = connect({ port, host });
      const done = (ok: boolean) => {
        s.destroy();
        resolve(ok);
      };
      s.once('connect', () => done(true));
      s.once('error', () => done(false));
      s.setTimeout(1000, () => done(false));
    });
}

/**
 * The supervised server runs under a watchdog in its own process group: a subshell that reads
 * fd 3, a pipe whose other end only the platform process holds. When the platform dies in any
 * way (SIGKILL included, where no exit hook runs; Node cannot ask the kernel for a parent-death
 * signal), the read ends and the watchdog stops the whole group as `stop()` would: the stop
 * signal, then SIGKILL after the grace. So no server outlives the platform by more than its
 * stop grace, and none is left for the next start to find. The command and its arguments are
 * positional parameters, never part of the script: `$0` name, `$1` signal, `$2` grace seconds.
 */
const WATCHDOG = [
  'sig=$1 grace=$2; shift 2',
  // $$ stays the server's pid (it is exec'd below): wait for it to go, at most the grace.
  '( trap "" TERM INT HUP QUIT; read -r -u 3 _; kill -s "$sig" 0; i=0',
  '  while kill -0 $$ 2>/dev/null && [ $i -lt $((grace * 10)) ]; do sleep 0.1; i=$((i + 1)); done',
  '  kill -s KILL 0 ) </dev/null >/dev/null 2>&1 &',
  'exec 3<&-',
  'exec "$@"',
].join('\n');

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** If the platform process dies, its supervised servers must not outlive it as orphans. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (signal: NodeJS.Signals) => {
    for (const c of live) killGroup(c, signal);
  };
  process.once('exit', () => killAll('SIGKILL'));
  // Children live in their own process groups, so a Ctrl-C or a SIGTERM to the platform does not
  // reach them: pass it on, then let the signal do what it would have done. When the process
  // handles the signal itself (the platform's graceful stop), it stops its providers in order
  // (after the dynos that use them); killing them here would read as a crash and restart them.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      if (process.listenerCount(sig) > 1) return;
      killAll('SIGTERM');
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** Why `command` cannot be run (not found on PATH, not executable), or undefined. */
function unrunnable(command: string, path: string | undefined): Error | undefined {
  const candidates = command.includes('/')
    ? [command]
    : (path ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, command));
  for (const c of candidates)
    try {
      accessSync(c, fsConstants.X_OK);
      return undefined;
    } catch {}
  return Object.assign(new Error(`spawn ${command} ENOENT`), { code: 'ENOENT' });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Supervisor extends EventEmitter implements Supervised {
  readonly name: string;
  restarts = 0;
  private child: ChildProcess | undefined;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  private startedAt = 0;
  /** Set when the command cannot be spawned at all: restarting would not help. */
  private fatal: Error | undefined;

  constructor(
    private readonly opts: SuperviseOptions,
    private readonly log: ProviderLog,
  ) {
    super();
    this.name = opts.name;
    this.delay = opts.backoff?.initialMs ?? 100;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawn one incarnation and wire its output and exit. */
  spawnOnce(): ChildProcess {
    installExitHook();
    // The watchdog's shell would report a missing command only by exiting 127: look first.
    const missing = unrunnable(this.opts.command, this.opts.env?.PATH ?? process.env.PATH);
    if (missing) {
      this.fatal = missing;
      throw addonErrors.SLIPWAY_ERR_ADDON_SPAWN(
        { name: this.name, command: this.opts.command, detail: missing.message },
        { cause: missing },
      );
    }
    const grace = String(Math.max(1, Math.ceil((this.opts.stopGraceMs ?? 5000) / 1000)));
    const signal = (this.opts.stopSignal ?? 'SIGTERM').replace(/^SIG/, '');
    const child = spawn(
      'bash',
      ['-c', WATCHDOG, this.opts.name, signal, grace, this.opts.command, ...(this.opts.args ?? [])],
      {
        cwd: this.opts.cwd,
        env: { ...process.env, ...this.opts.env },
        // fd 3: the watchdog's line to this process (see WATCHDOG).
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        // Its own process group, so stop() also reaches what it forks.
        detached: true,
      },
    );
    (child.stdio[3] as NodeJS.WritableStream | null)?.on('error', () => {});
    this.child = child;
    this.startedAt = Date.now();
    live.add(child);
    splitLines(child.stdout!, (l) => this.log.info(`${this.name}: ${l}`));
    const level = this.opts.stderrLevel ?? (() => 'warn' as const);
    splitLines(child.stderr!, (l) => this.log[level(l)](`${this.name}: ${l}`));
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null, err?: Error) => {
      if (ended) return;
      ended = true;
      // The server is gone: its watchdog, and anything it left, go too (the group cannot have
      // been reused while they live in it).
      if (child.pid !== undefined)
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      // `exec` in the watchdog's shell failed: the command is missing (127) or not runnable (126).
      if (!err && (code === 127 || code === 126) && Date.now() - this.startedAt < 5000)
        err = Object.assign(new Error(code === 127 ? 'command not found' : 'permission denied'), {
          code: code === 127 ? 'ENOENT' : 'EACCES',
        });
      live.delete(child);
      if (this.child === child) this.child = undefined;
      this.emit('exit', code, signal);
      if (this.stopping) return;
      if (
        (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ||
        (err as NodeJS.ErrnoException | undefined)?.code === 'EACCES'
      ) {
        this.fatal = err;
        this.log.error(`${this.name}: cannot run ${this.opts.command}: ${err!.message}`);
        this.emit('fatal', err);
        return;
      }
      this.scheduleRestart(code, signal, err);
    };
    child.once('error', (err) => onEnd(null, null, err));
    child.once('exit', (code, signal) => onEnd(code, signal));
    return child;
  }

  private scheduleRestart(code: number | null, signal: NodeJS.Signals | null, err?: Error): void {
    const { maxMs = 30_000, resetAfterMs = 10_000, initialMs = 100 } = this.opts.backoff ?? {};
    // A process that ran healthy for a while starts the back-off over (Kubernetes' rule).
    if (Date.now() - this.startedAt > resetAfterMs) this.delay = initialMs;
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, maxMs);
    const why = err ? err.message : signal ? `signal ${signal}` : `exit code ${code}`;
    this.log.warn(`${this.name} crashed (${why}); restarting in ${delay} ms`);
    this.emit('crash', code, signal, delay);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopping) return;
      this.restarts++;
      let c: ChildProcess;
      try {
        c = this.spawnOnce();
      } catch (e) {
        this.log.error((e as Error).message);
        this.emit('fatal', this.fatal);
        return;
      }
      this.emit('restart', c.pid);
      this.waitReady().then(
        () => this.emit('ready', c.pid),
        (e) => this.log.warn(e.message),
      );
    }, delay);
  }

  /** Poll `ready()` until true, or fail after the ready timeout. */
  async waitReady(): Promise<void> {
    const timeout = this.opts.readyTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeout;
    const ready = this.opts.ready ?? (() => true);
    // Let a spawn failure (ENOENT) surface before the first check.
    await new Promise((r) => setImmediate(r));
    let wait = 25;
    while (!this.stopping) {
      this.throwIfFatal();
      if (await Promise.resolve(ready()).catch(() => false)) return;
      if (Date.now() > deadline)
        throw addonErrors.SLIPWAY_ERR_ADDON_READY_TIMEOUT({ name: this.name, ms: timeout });
      await sleep(wait);
      wait = Math.min(wait * 2, 500);
    }
  }

  private throwIfFatal(): void {
    if (this.fatal)
      throw addonErrors.SLIPWAY_ERR_ADDON_SPAWN(
        { name: this.name, command: this.opts.command, detail: this.fatal.message },
        { cause: this.fatal },
      );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    killGroup(child, this.opts.stopSignal ?? 'SIGTERM');
    const grace = this.opts.stopGraceMs ?? 5000;
    const t = setTimeout(() => killGroup(child, 'SIGKILL'), grace);
    await exited;
    clearTimeout(t);
  }
}

/**
 * Start a supervised process and resolve once it is ready. If it never becomes ready within
 * the timeout it is stopped and the promise rejects with SLIPWAY_ERR_ADDON_READY_TIMEOUT.
 */
export async function supervise(opts: SuperviseOptions, log: ProviderLog): Promise<Supervised> {
  const s = new Supervisor(opts, log);
  const first = s.spawnOnce();
  try {
    await s.waitReady();
  } catch (e) {
    await s.stop();
    throw e;
  }
  s.emit('ready', first.pid);
  return s;
}
