/**
 * Typed service references (Backstage style) and the interfaces of the replaceable services.
 * A `ServiceRef<T>` carries its type, so `kernel.resolve(dynoRuntimeRef)` is a `DynoRuntime`.
 * Core declares the contracts; the reference runtime (or any plugin) provides them.
 */
import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';

/** A DI token that carries the type of the service it names. */
export interface ServiceRef<T> {
  /** Human name, e.g. `DynoRuntime`; used in error messages. */
  readonly id: string;
  /** The tsyringe token. */
  readonly token: symbol;
  /** Phantom field that carries T; never set. */
  readonly $type?: T;
}

/** Create a typed service reference. Names are unique by convention: `<Role>`. */
export function createServiceRef<T>(id: string): ServiceRef<T> {
  return Object.freeze({ id, token: Symbol.for(`slipway.service.${id}`) });
}

// ---------------------------------------------------------------------------------------------
// Clock

/** Time source; tests swap it to control timers. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

/**
 * Call `fn` every `ms` on `clock` until cancelled (a poller or a sampler): each run is set when
 * the last one is called, so a manual clock moved by `n * ms` runs it `n` times.
 */
export function every(clock: Clock, ms: number, fn: () => void): { cancel(): void } {
  let timer: { cancel(): void };
  let cancelled = false;
  const arm = (): void => {
    timer = clock.setTimeout(() => {
      if (cancelled) return;
      arm();
      fn();
    }, ms);
  };
  arm();
  return {
    cancel() {
      cancelled = true;
      timer.cancel();
    },
  };
}

/** A clock that moves only when told: tests drive the platform's timers without waiting. */
export interface ManualClock extends Clock {
  /** Move time forward by `ms`, firing each timer that falls due, in time order. */
  advance(ms: number): void;
  /** Timers set and not yet fired or cancelled. */
  readonly pending: number;
}

/** A `ManualClock` starting at `start` (epoch ms; default now). */
export function manualClock(start = Date.now()): ManualClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = seq++;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return { cancel: () => timers.delete(id) };
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        // The earliest due timer (ties in the order they were set); one it sets may fall due too.
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const e of timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
        if (!next) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = end;
    },
    get pending() {
      return timers.size;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Logs

/** One log line of an app's stream (logplex's shape). */
export interface LogLine {
  /** App name. */
  app: string;
  /** Epoch milliseconds (µs precision kept in `micros` when known). */
  time: number;
  micros?: number;
  /** `app`, `slipway` (platform), or a drain-visible source such as `router`, `api`. */
  source: string;
  /** Dyno or component, e.g. `web.1`, `router`, `api`, `build`. */
  dyno: string;
  message: string;
}

/** Where log lines go: the runtime's log hub, a file, a drain. */
export interface LogSink {
  write(line: LogLine): void;
}

// ---------------------------------------------------------------------------------------------
// Slugs

/** Reference to a stored slug. */
export interface SlugRef {
  /** `sha256:<hex>` of the tar.gz; also its identity. */
  checksum: string;
  size: number;
  /** The stack it was built in: dynos run there (absent = the runtime's own stack). */
  stack?: string;
}

/** Storage of slug archives. */
export interface SlugStore {
  /**
   * Store the tar.gz at `file` (the store may move or copy it). `checksum`, when given, is the
   * caller's `sha256:` of the file, hashed as it wrote it where only it can write: a store may
   * take it instead of reading the file again.
   */
  put(file: string, checksum?: string): Promise<SlugRef>;
  open(ref: SlugRef): Readable;
  /** A local path to the archive, when the store has one (the filesystem store does). */
  path?(ref: SlugRef): string | undefined;
  remove(ref: SlugRef): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Dynos

/** Size of a dyno; memory in MB. */
export interface DynoSize {
  name: string;
  memoryMb: number;
}

/** Everything needed to start one dyno of a release. */
export interface DynoSpec {
  app: string;
  release: number;
  /** Process type: `web`, `worker`, … */
  type: string;
  /** 1-based index: `web.1`. */
  index: number;
  command: string;
  /** Config vars plus platform vars (`DYNO`, `PORT` for web). */
  env: Record<string, string>;
  size: DynoSize;
  /** Port the web dyno must bind; the runtime chooses it. */
  port?: number;
  /** Slug to run. */
  slug: SlugRef;
}

/** Spec of a one-off dyno (`slipway run`, release phase). */
export interface OneOffSpec extends Omit<DynoSpec, 'index' | 'type' | 'port'> {
  /** `run`, `release`, `postdeploy`… */
  type: string;
  attach: boolean;
  /** Terminal size when attached to a TTY. */
  tty?: { columns: number; rows: number };
  /** Hang up an attached dyno idle this long (Heroku: 1 h). */
  idleTimeoutMs?: number;
  /** The node to run on (name or id), for runtimes that span several; others ignore it. */
  node?: string;
}

/** A running dyno as the runtime knows it. */
export interface DynoHandle {
  /** Unique id within the runtime (container id, pid-based id…). */
  id: string;
  app: string;
  release: number;
  type: string;
  index: number;
  /** Where the router reaches a web dyno. */
  host?: string;
  port?: number;
  /** The machine it runs on, for runtimes that span several (`ps` shows it). */
  node?: string;
  startedAt: number;
}

/** A dyno's observed state. */
export interface DynoStatus extends DynoHandle {
  state: 'starting' | 'up' | 'crashed' | 'stopping' | 'down';
}

/** An attached or detached one-off session. */
export interface OneOffSession extends EventEmitter {
  readonly handle: DynoHandle;
  /** stdin of the process, when attached. */
  readonly stdin?: NodeJS.WritableStream;
  readonly stdout: Readable;
  readonly stderr?: Readable;
  resize?(columns: number, rows: number): void;
  kill(signal?: NodeJS.Signals): void;
  /** Resolves with the exit code (128 + n for signal n). */
  readonly exited: Promise<number>;
}

/** Why a runtime ended a dyno itself; the optional 4th argument of the `exit` event. */
export interface DynoExitInfo {
  status: number | null;
  /** `stop-timeout`: SIGKILL after the grace period (R12). `memory`: over 2× quota (R15). */
  reason?: 'stop-timeout' | 'memory';
}

/**
 * Runs dynos: local processes, Docker containers or Swarm tasks. Events:
 * `output` (handle, line, stream), `exit` (handle, code, signal, info?: DynoExitInfo),
 * `memory` (handle, rssBytes, limitBytes).
 */
export interface DynoRuntime extends EventEmitter {
  /**
   * Where dynos reach services on the platform's host (add-on servers), when not its loopback:
   * the Docker bridge's gateway. Add-on providers listen there.
   */
  readonly hostAddress?: string;
  /**
   * The address dynos name for those services when it is not where they listen (the Swarm
   * runtime's edge gateway on the overlay, which forwards to `hostAddress`); else `hostAddress`.
   */
  readonly dynoHostAddress?: string;
  /**
   * Its dynos see only the stack and the slug, never the host's language runtimes: builds for
   * it tell buildpacks so (`StackInfo.runtimeInSlug`). The container runtimes set it.
   */
  readonly runtimeInSlug?: boolean;
  /** Release what the runtime holds (watchers, unpacked slugs) when the platform stops. */
  close?(): Promise<void>;
  start(spec: DynoSpec): Promise<DynoHandle>;
  /** SIGTERM, then SIGKILL after graceMs. */
  stop(handle: DynoHandle, graceMs: number): Promise<void>;
  runOnce(spec: OneOffSpec): Promise<OneOffSession>;
  /** What runs now, e.g. to adopt dynos after a platform restart. */
  list(app?: string): Promise<DynoStatus[]>;
}

// ---------------------------------------------------------------------------------------------
// State

/**
 * Durable platform state. Its full shape belongs to the runtime that implements it; core only
 * fixes that it exists, can be closed, and runs multi-row changes atomically.
 */
export interface StateStore {
  /** Run `fn` in one transaction. */
  transaction<R>(fn: () => R): R;
  close(): void | Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The references

/** Runs dynos. */
export const dynoRuntimeRef = createServiceRef<DynoRuntime>('DynoRuntime');
/** Durable platform state. */
export const stateStoreRef = createServiceRef<StateStore>('StateStore');
/** Stores slug archives. */
export const slugStoreRef = createServiceRef<SlugStore>('SlugStore');
/** Receives log lines. */
export const logSinkRef = createServiceRef<LogSink>('LogSink');
/** Time source. */
export const clockRef = createServiceRef<Clock>('Clock');
