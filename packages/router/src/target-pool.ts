/**
 * The router's view of each dyno it talks to: in-flight count, quarantine and a keep-alive
 * connection pool, plus the per-app backlog of requests waiting for a free dyno. State is keyed
 * by `host:port`, so a dyno that leaves the route table keeps its state (and its in-flight
 * requests finish) until it is idle; then `sweep` drops its pool.
 */
import { Client } from 'undici';
import type { RouteTarget } from './route-table.js';

/** How the router picks a dyno among an app's up dynos. */
export type BalanceStrategy = 'p2c' | 'random';

/** Live state of one dyno. */
export interface TargetState {
  readonly key: string;
  readonly host: string;
  readonly port: number;
  /** Dyno name as last seen in the table. */
  dyno: string;
  inFlight: number;
  /** Epoch ms until which the dyno gets no new requests. */
  quarantinedUntil: number;
  /** H19 or H21: why it was quarantined, answered while every dyno is quarantined. */
  quarantineCode: 'H19' | 'H21' | undefined;
  lastUsed: number;
  /** Origin of the dyno for undici (`http://host:port`). */
  readonly origin: string;
  /**
   * Idle keep-alive connections to the dyno, the most recently used last (LIFO): one undici
   * `Client` (one connection) each, used through its `dispatch` handler API.
   */
  readonly idle: Client[];
}

/** Result of picking a dyno. */
export type Pick =
  | { kind: 'target'; target: TargetState }
  /** Every eligible dyno is at its in-flight cap: queue or H11. */
  | { kind: 'busy' }
  /** Every dyno is quarantined or was already tried for this request. */
  | { kind: 'none'; code: 'H19' | 'H21' | undefined };

/** Options of the pool. */
export interface TargetPoolOptions {
  inFlightPerDyno: number;
  backlogPerDyno: number;
  quarantineMs: number;
  strategy: BalanceStrategy;
  /** Reuse connections to dynos (false: one connection per request, as Heroku's legacy router). */
  keepAlive: boolean;
  /** Connecting to a dyno (ms); beyond it the request fails with UND_ERR_CONNECT_TIMEOUT (H19). */
  connectTimeout: number;
  /** Idle keep-alive connections are closed after this (ms), or the dyno's `Keep-Alive: timeout` hint when shorter. */
  idleTimeout: number;
  /** Idle keep-alive connections kept per dyno; more are closed as their requests end. */
  maxFreeSockets: number;
}

/** A request waiting in an app's backlog. */
export interface BacklogWaiter {
  /** Called when a dyno of the app freed a slot; returns false to stay at the head of the queue. */
  wake(): boolean;
}

/** Dyno states, connection pools and backlogs of one router process. */
export class TargetPool {
  private readonly targets = new Map<string, TargetState>();
  private readonly backlogs = new Map<string, BacklogWaiter[]>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  /** Whether connections to dynos are reused. */
  get keepAlive(): boolean {
    return this.opts.keepAlive;
  }

  constructor(private readonly opts: TargetPoolOptions) {
    this.sweeper = setInterval(() => this.sweep(Date.now() - 30_000), 10_000);
    this.sweeper.unref();
  }

  /** State of a dyno, created on first use. */
  state(t: RouteTarget): TargetState {
    const key = `${t.host}:${t.port}`;
    let s = this.targets.get(key);
    if (s === undefined) {
      s = {
        key,
        host: t.host,
        port: t.port,
        dyno: t.dyno,
        inFlight: 0,
        quarantinedUntil: 0,
        quarantineCode: undefined,
        lastUsed: 0,
        origin: `http://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`,
        idle: [],
      };
      this.targets.set(key, s);
    } else s.dyno = t.dyno;
    return s;
  }

  /**
   * A connection for one request: the most recently used idle one, else a new one (which
   * connects when the request is dispatched on it). `s.idle.length > 0` before the call says
   * which.
   */
  lease(s: TargetState): Client {
    const idle = s.idle.pop();
    if (idle !== undefined) return idle;
    const client = new Client(s.origin, {
      pipelining: 1,
      connectTimeout: this.opts.connectTimeout,
      keepAliveTimeout: this.opts.idleTimeout,
      // H12 and H15 are the router's own timers.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    // A connection that closes while idle (the dyno's or undici's keep-alive timeout) leaves.
    client.on('disconnect', () => this.forgetIdle(s, client));
    return client;
  }

  /** A request on `client` ended with a complete response: keep the connection for the next one. */
  giveBack(s: TargetState, client: Client): void {
    if (this.opts.keepAlive && !this.closed && s.idle.length < this.opts.maxFreeSockets && !client.closed)
      s.idle.push(client);
    else client.close().catch(() => {});
  }

  /** A connection closed: drop it if idle (a leased one belongs to its request until it ends). */
  private forgetIdle(s: TargetState, client: Client): void {
    const i = s.idle.lastIndexOf(client);
    if (i < 0) return;
    s.idle.splice(i, 1);
    client.destroy().catch(() => {});
  }

  private closeIdle(s: TargetState): void {
    for (const c of s.idle.splice(0)) c.destroy().catch(() => {});
  }

  /** Pick a dyno for a request, skipping quarantined ones, full ones and `tried`. */
  pick(targets: readonly RouteTarget[], now: number, tried?: Set<string>): Pick {
    const cap = this.opts.inFlightPerDyno;
    const n = targets.length;
    if (n === 1 && tried === undefined) {
      const s = this.state(targets[0]!);
      if (s.quarantinedUntil > now) return { kind: 'none', code: s.quarantineCode };
      return s.inFlight < cap ? { kind: 'target', target: s } : { kind: 'busy' };
    }
    if (n > 1) {
      // Two random choices, the less loaded wins (or one random choice for `random`).
      const i = (Math.random() * n) | 0;
      const a = this.eligible(targets[i]!, now, tried);
      if (this.opts.strategy === 'random') {
        if (a) return { kind: 'target', target: a };
      } else {
        const j = (i + 1 + ((Math.random() * (n - 1)) | 0)) % n;
        const b = this.eligible(targets[j]!, now, tried);
        if (a && b) return { kind: 'target', target: a.inFlight <= b.inFlight ? a : b };
        if (a || b) return { kind: 'target', target: (a ?? b)! };
      }
    }
    // Few or no eligible dynos: scan them all.
    let best: TargetState | undefined;
    let busy = false;
    let code: 'H19' | 'H21' | undefined;
    for (const t of targets) {
      const s = this.state(t);
      if (tried?.has(s.key)) continue;
      if (s.quarantinedUntil > now) {
        code ??= s.quarantineCode;
        continue;
      }
      if (s.inFlight >= cap) {
        busy = true;
        continue;
      }
      if (best === undefined || s.inFlight < best.inFlight) best = s;
    }
    if (best) return { kind: 'target', target: best };
    return busy ? { kind: 'busy' } : { kind: 'none', code };
  }

  private eligible(t: RouteTarget, now: number, tried: Set<string> | undefined): TargetState | undefined {
    const s = this.state(t);
    if (s.quarantinedUntil > now || s.inFlight >= this.opts.inFlightPerDyno || tried?.has(s.key))
      return undefined;
    return s;
  }

  /** Keep new requests away from a dyno that refused or did not accept a connection. */
  quarantine(s: TargetState, code: 'H19' | 'H21', now: number): void {
    s.quarantinedUntil = now + this.opts.quarantineMs;
    s.quarantineCode = code;
    // Pooled connections to a dyno that refuses new ones are likely dead too.
    this.closeIdle(s);
  }

  /** Count a request against a dyno. */
  acquire(s: TargetState, now: number): void {
    s.inFlight++;
    s.lastUsed = now;
  }

  /** A request on a dyno of `app` finished: let a waiting request of the app go. */
  release(s: TargetState, app: string): void {
    s.inFlight--;
    const queue = this.backlogs.get(app);
    if (queue === undefined) return;
    while (queue.length > 0) {
      const w = queue.shift()!;
      if (w.wake()) continue;
      queue.unshift(w);
      break;
    }
    if (queue.length === 0) this.backlogs.delete(app);
  }

  /** Queue a request for a busy app; false when the backlog is full (H11). */
  enqueue(app: string, dynos: number, w: BacklogWaiter): boolean {
    let queue = this.backlogs.get(app);
    if (queue === undefined) {
      queue = [];
      this.backlogs.set(app, queue);
    }
    if (queue.length >= this.opts.backlogPerDyno * dynos) return false;
    queue.push(w);
    return true;
  }

  /** Take a waiter out of the backlog (timed out or client gone). */
  dequeue(app: string, w: BacklogWaiter): void {
    const queue = this.backlogs.get(app);
    const i = queue?.indexOf(w) ?? -1;
    if (i >= 0) queue!.splice(i, 1);
  }

  /** Number of requests waiting for a dyno of `app`. */
  backlog(app: string): number {
    return this.backlogs.get(app)?.length ?? 0;
  }

  /** Drop the pools of dynos idle since before `cutoff` (epoch ms), e.g. dynos gone from the table. */
  sweep(cutoff: number): void {
    for (const [key, s] of this.targets)
      if (s.inFlight === 0 && s.lastUsed < cutoff && s.quarantinedUntil < cutoff) {
        this.closeIdle(s);
        this.targets.delete(key);
      }
  }

  /** Close every pooled connection. */
  close(): void {
    clearInterval(this.sweeper);
    this.closed = true;
    for (const s of this.targets.values()) this.closeIdle(s);
    this.targets.clear();
  }
}
