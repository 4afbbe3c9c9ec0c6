/**
 * Log drain delivery: every line the log hub writes (through `kernel.hooks.log`) is queued on
 * each drain of its app and sent in batches: logplex-framed POSTs to HTTP(S) drains, RFC 5424
 * + RFC 6587 frames over one TCP (or TLS) connection to syslog drains. Each drain has a bounded
 * buffer (1024 lines, oldest dropped, reported as `Error L10 (output buffer overflow)`), and a
 * failed batch is retried with exponential back-off while new lines keep queueing behind it.
 */
import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction, connect as netConnect, type Socket } from 'node:net';
import { rootCertificates, connect as tlsConnect } from 'node:tls';
import { type Clock, type Kernel, type LogLine, type LogSink, systemClock } from '@slipway/core';
import { formatLogTime } from '../logs/log-hub.js';
import { logplexBody, syslogFrames } from './drain-format.js';
import { guardedLookup } from './drain-url.js';

/** A drain to deliver to (the state's drain record, keyed by app name). */
export interface DrainSpec {
  id: string;
  app: string;
  url: string;
  token: string;
}

/** Options of the drain service. */
export interface DrainServiceOptions {
  /** Lines arrive through `hooks.log`. */
  kernel: Pick<Kernel, 'hooks'>;
  /** Where `L10` lines go (the log hub). */
  log: LogSink;
  /** Lines buffered per drain before the oldest are dropped; default 1024 (logplex's). */
  bufferSize?: number;
  /** Most lines per HTTP POST or syslog write; default 500. */
  batchSize?: number;
  /** Retry back-off: first delay and cap; default 500 ms doubling up to 30 s. */
  retryMs?: { initial: number; max: number };
  /** Give up on one delivery attempt after this; default 10 s. */
  timeoutMs?: number;
  /** Least time between two L10 lines of one drain; default 1 s. */
  overflowReportMs?: number;
  /** Extra CA certificates trusted for https and syslog+tls drains (besides the system's). */
  ca?: string | Buffer;
  /** Deliver to drains on loopback addresses (see `SelfAddress.allowLoopback`); default false. */
  allowLoopback?: boolean;
  /** The time source of retries and L10 reports (the kernel's `Clock`); default the system's. */
  clock?: Clock;
}

/** Counters of one drain, for `drains` and tests. */
export interface DrainStats {
  delivered: number;
  dropped: number;
  failures: number;
  queued: number;
  lastError?: string;
}

type Sender = (lines: LogLine[]) => Promise<void>;
type Resolved = Required<Omit<DrainServiceOptions, 'kernel' | 'ca'>> & Pick<DrainServiceOptions, 'ca'>;

/** One drain: its buffer, its in-flight batch and its retry timer. */
class Drain {
  readonly stats: DrainStats = { delivered: 0, dropped: 0, failures: 0, queued: 0 };
  private buffer: LogLine[] = [];
  private batch: LogLine[] | undefined;
  private sending = false;
  private attempts = 0;
  private retryTimer: { cancel(): void } | undefined;
  private reportTimer: { cancel(): void } | undefined;
  private droppedSince: number | undefined;
  private droppedCount = 0;
  private ownReport: LogLine | undefined;
  private closed = false;
  private readonly send: Sender;
  private readonly closeSender: () => void;

  constructor(
    readonly spec: DrainSpec,
    private readonly o: Resolved,
  ) {
    [this.send, this.closeSender] = makeSender(
      new URL(spec.url),
      spec.token,
      o.timeoutMs,
      o.ca,
      guardedLookup(o.allowLoopback),
    );
  }

  push(line: LogLine): void {
    if (this.closed) return;
    if (this.buffer.length >= this.o.bufferSize) {
      this.buffer.shift();
      // Our own L10 line pushing out another line is not news; everything else is counted.
      if (line !== this.ownReport) this.dropped();
    }
    this.buffer.push(line);
    this.stats.queued = this.buffer.length;
    this.pump();
  }

  close(): void {
    this.closed = true;
    this.retryTimer?.cancel();
    this.reportTimer?.cancel();
    this.closeSender();
  }

  private dropped(): void {
    this.stats.dropped++;
    this.droppedCount++;
    this.droppedSince ??= this.o.clock.now();
    this.reportTimer ??= this.o.clock.setTimeout(() => this.report(), this.o.overflowReportMs);
  }

  /** Logplex's L10 line, written to the app's log (and so to every drain of it). */
  private report(): void {
    this.reportTimer = undefined;
    if (this.closed || !this.droppedCount) return;
    const since = formatLogTime({ time: this.droppedSince as number }).replace(/\.\d+/, '');
    const n = this.droppedCount;
    this.droppedCount = 0;
    this.droppedSince = undefined;
    const time = this.o.clock.now();
    this.ownReport = {
      app: this.spec.app,
      time,
      micros: (time % 1000) * 1000,
      source: 'slipway',
      dyno: 'logplex',
      message: `Error L10 (output buffer overflow): ${n} messages dropped since ${since}. (drain ${this.spec.id})`,
    };
    this.o.log.write(this.ownReport);
  }

  private pump(): void {
    if (this.sending || this.retryTimer || this.closed) return;
    if (!this.batch) {
      if (!this.buffer.length) return;
      this.batch = this.buffer.splice(0, this.o.batchSize);
      this.stats.queued = this.buffer.length;
    }
    this.sending = true;
    const batch = this.batch;
    this.send(batch).then(
      () => {
        this.sending = false;
        this.batch = undefined;
        this.attempts = 0;
        this.stats.delivered += batch.length;
        this.pump();
      },
      (e: Error) => {
        this.sending = false;
        if (this.closed) return;
        this.stats.failures++;
        this.stats.lastError = e.message;
        const delay = Math.min(this.o.retryMs.initial * 2 ** this.attempts, this.o.retryMs.max);
        this.attempts++;
        this.retryTimer = this.o.clock.setTimeout(() => {
          this.retryTimer = undefined;
          this.pump();
        }, delay);
      },
    );
  }
}

/** The HTTP(S) or syslog sender of a drain URL, and what closes its connections. */
function makeSender(
  url: URL,
  token: string,
  timeoutMs: number,
  extraCa: string | Buffer | undefined,
  lookup: LookupFunction,
): [Sender, () => void] {
  // Node replaces the system CAs when `ca` is given: keep them and add the extra ones.
  const ca = extraCa ? [...rootCertificates, extraCa.toString()] : undefined;
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const https = url.protocol === 'https:';
    const agent = https
      ? new HttpsAgent({ keepAlive: true, lookup, ...(ca ? { ca } : {}) })
      : new HttpAgent({ keepAlive: true, lookup } as ConstructorParameters<typeof HttpAgent>[0]);
    const send: Sender = (lines) =>
      new Promise((resolve, reject) => {
        const body = logplexBody(lines, token);
        const req = (https ? httpsRequest : httpRequest)(
          url,
          {
            method: 'POST',
            agent,
            timeout: timeoutMs,
            headers: {
              'Content-Type': 'application/logplex-1',
              'Content-Length': body.length,
              'Logplex-Msg-Count': lines.length,
              'Logplex-Frame-Id': randomUUID(),
              'Logplex-Drain-Token': token,
              'User-Agent': 'Slipway-Logplex/1',
            },
          },
          (res) => {
            res.resume();
            res.on('end', () =>
              (res.statusCode ?? 500) < 300
                ? resolve()
                : reject(new Error(`drain answered HTTP ${res.statusCode}`)),
            );
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(body);
      });
    return [send, () => agent.destroy()];
  }
  // syslog:// and syslog+tls://: one long-lived connection, reopened after an error.
  let socket: Socket | undefined;
  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const port = Number(url.port);
      const s =
        url.protocol === 'syslog+tls:'
          ? tlsConnect({
              host: url.hostname,
              port,
              lookup,
              ...(isIP(url.hostname) ? {} : { servername: url.hostname }),
              ...(ca ? { ca } : {}),
            })
          : netConnect({ host: url.hostname, port, lookup });
      const timer = setTimeout(() => s.destroy(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
      s.once(url.protocol === 'syslog+tls:' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.off('error', reject);
        s.on('error', () => {});
        s.on('close', () => {
          if (socket === s) socket = undefined;
        });
        // The server never talks to us; keep reading so its FIN is noticed.
        s.resume();
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  const send: Sender = async (lines) => {
    socket ??= await open();
    const s = socket;
    await new Promise<void>((resolve, reject) =>
      s.write(syslogFrames(lines, token), (e) => {
        if (!e) return resolve();
        s.destroy();
        reject(e);
      }),
    );
  };
  return [send, () => socket?.destroy()];
}

/** Delivers every app's log lines to its drains. */
export class DrainService {
  private readonly byApp = new Map<string, Drain[]>();
  private readonly byId = new Map<string, Drain>();
  private readonly o: Resolved;
  private closed = false;

  constructor(opts: DrainServiceOptions) {
    this.o = {
      log: opts.log,
      bufferSize: opts.bufferSize ?? 1024,
      batchSize: opts.batchSize ?? 500,
      retryMs: opts.retryMs ?? { initial: 500, max: 30_000 },
      timeoutMs: opts.timeoutMs ?? 10_000,
      overflowReportMs: opts.overflowReportMs ?? 1000,
      allowLoopback: opts.allowLoopback ?? false,
      clock: opts.clock ?? systemClock,
      ...(opts.ca ? { ca: opts.ca } : {}),
    };
    opts.kernel.hooks.log.tap('@slipway/runtime/drains', (line) => {
      if (this.closed) return;
      const drains = this.byApp.get(line.app);
      if (drains) for (const d of drains) d.push(line);
    });
  }

  /** Make the delivered set equal `specs`: new drains start, removed ones stop, kept ones keep their queue. */
  set(specs: readonly DrainSpec[]): void {
    if (this.closed) return;
    const wanted = new Map(specs.map((s) => [s.id, s]));
    for (const [id, d] of this.byId) {
      const s = wanted.get(id);
      if (!s || s.url !== d.spec.url || s.app !== d.spec.app) {
        d.close();
        this.byId.delete(id);
      }
    }
    for (const s of specs) if (!this.byId.has(s.id)) this.byId.set(s.id, new Drain(s, this.o));
    this.byApp.clear();
    for (const d of this.byId.values()) {
      const list = this.byApp.get(d.spec.app) ?? [];
      list.push(d);
      this.byApp.set(d.spec.app, list);
    }
  }

  /** Counters of a drain, or undefined when it is not delivered. */
  stats(id: string): DrainStats | undefined {
    const d = this.byId.get(id);
    return d ? { ...d.stats } : undefined;
  }

  /** Stop delivering and close every connection. */
  close(): void {
    this.closed = true;
    for (const d of this.byId.values()) d.close();
    this.byId.clear();
    this.byApp.clear();
  }
}
