/**
 * The log hub: logplex's job for one platform. Every app has one stream merging dyno output,
 * router lines and platform events; the hub keeps a bounded recent buffer per app (Heroku: the
 * last 1500 lines), serves `logs -n/--source/--dyno`, and fans lines out to live tails.
 */
import { type Kernel, type LogLine, type LogSink, MAX_LINE_BYTES } from '@slipway/core';

export { MAX_LINE_BYTES };

/** Which lines of an app a reader wants. */
export interface LogFilter {
  /** `app`, `router`, `slipway`… exact match. */
  source?: string;
  /** `web` matches every web dyno (`web.1`, `web.2`); `web.1` matches only that dyno. */
  dyno?: string;
}

/** Options of `LogHub.recent`. */
export interface RecentOptions extends LogFilter {
  /** How many of the newest matching lines (Heroku: 100 by default, up to 1500). */
  n?: number;
}

/** Options of the log hub. */
export interface LogHubOptions {
  /** Lines kept per app (Heroku: 1500). */
  max?: number;
  /** Characters of messages kept per app at most (default 2,000,000: 1500 lines of 1,333 on average). */
  maxChars?: number;
  /** When given, every line is also sent to `kernel.hooks.log` (drains tap it). */
  kernel?: Pick<Kernel, 'hooks'>;
}

/** A live subscriber: called synchronously with each new line. */
export type LogListener = (line: LogLine) => void;

/** True when `line` passes `filter`. */
export function matchesFilter(line: LogLine, filter: LogFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.source !== undefined && line.source !== filter.source) return false;
  if (filter.dyno !== undefined) {
    const d = filter.dyno;
    if (line.dyno !== d && !(d.indexOf('.') === -1 && line.dyno.startsWith(`${d}.`))) return false;
  }
  return true;
}

/** RFC 5424 timestamp with microseconds, as logplex prints it: `2026-11-27T20:11:22.123456+00:00`. */
export function formatLogTime(line: Pick<LogLine, 'time' | 'micros'>): string {
  const iso = new Date(line.time).toISOString(); // 2026-11-27T20:11:22.123Z
  const micros = line.micros ?? (line.time % 1000) * 1000;
  return `${iso.slice(0, 19)}.${String(Math.floor(micros) % 1_000_000).padStart(6, '0')}+00:00`;
}

/** One line as `heroku logs` prints it: `<timestamp> <source>[<dyno>]: <message>`. */
export function formatLogLine(line: LogLine): string {
  return `${formatLogTime(line)} ${line.source}[${line.dyno}]: ${line.message}`;
}

/**
 * Split a message into chunks of at most `max` UTF-8 bytes without cutting a character in two
 * (logplex splits, it does not truncate).
 */
export function splitMessage(message: string, max = MAX_LINE_BYTES): string[] {
  if (message.length * 3 <= max || Buffer.byteLength(message) <= max) return [message];
  const buf = Buffer.from(message);
  const out: string[] = [];
  let start = 0;
  while (start < buf.length) {
    let end = Math.min(start + max, buf.length);
    // Step back off UTF-8 continuation bytes (10xxxxxx) so a character is never split.
    if (end < buf.length) while (end > start && (buf[end]! & 0xc0) === 0x80) end--;
    out.push(buf.toString('utf8', start, end));
    start = end;
  }
  return out;
}

/**
 * A fixed-size ring of the newest lines of one app, also bounded in characters: 1500 lines of
 * 10,000 bytes would be 15 MB per app, so an app of long lines keeps fewer of them.
 */
class Ring {
  private readonly items: (LogLine | undefined)[];
  private next = 0;
  private chars = 0;
  size = 0;
  constructor(
    readonly capacity: number,
    readonly maxChars: number,
  ) {
    this.items = new Array(capacity);
  }
  push(line: LogLine): void {
    const old = this.size === this.capacity ? this.items[this.next] : undefined;
    if (old) this.chars -= old.message.length;
    this.items[this.next] = line;
    this.chars += line.message.length;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    // Drop the oldest lines while over the character budget (the newest always stays).
    while (this.chars > this.maxChars && this.size > 1) {
      const oldest = (this.next - this.size + this.capacity) % this.capacity;
      this.chars -= (this.items[oldest] as LogLine).message.length;
      this.items[oldest] = undefined;
      this.size--;
    }
  }
  /** Newest `n` lines matching `filter`, oldest first. */
  newest(n: number, filter: LogFilter | undefined): LogLine[] {
    const out: LogLine[] = [];
    for (let i = 1; i <= this.size && out.length < n; i++) {
      const line = this.items[(this.next - i + this.capacity) % this.capacity]!;
      if (matchesFilter(line, filter)) out.push(line);
    }
    return out.reverse();
  }
}

/** The platform's log hub; a core `LogSink`. */
export class LogHub implements LogSink {
  /** Lines kept per app. */
  readonly max: number;
  private readonly maxChars: number;
  private readonly kernel: Pick<Kernel, 'hooks'> | undefined;
  private readonly rings = new Map<string, Ring>();
  private readonly listeners = new Map<string, Set<{ fn: LogListener; filter: LogFilter | undefined }>>();
  private lastMicros = 0;

  constructor(opts: LogHubOptions = {}) {
    this.max = opts.max ?? 1500;
    this.maxChars = opts.maxChars ?? 2_000_000;
    this.kernel = opts.kernel;
  }

  /** Add a line (split at 10,000 bytes), remember it, and hand it to tails and `hooks.log`. */
  write(line: LogLine): void {
    const stamped = line.micros === undefined ? { ...line, micros: this.micros(line.time) } : line;
    const parts = splitMessage(stamped.message);
    for (const message of parts) {
      const l = parts.length === 1 ? stamped : { ...stamped, message };
      let ring = this.rings.get(l.app);
      if (!ring) {
        ring = new Ring(this.max, this.maxChars);
        this.rings.set(l.app, ring);
      }
      ring.push(l);
      const subs = this.listeners.get(l.app);
      if (subs)
        for (const s of subs) {
          if (!matchesFilter(l, s.filter)) continue;
          try {
            s.fn(l);
          } catch {
            // A broken tail (e.g. a closed HTTP response) must not stop logging for everyone.
          }
        }
      try {
        this.kernel?.hooks.log.call(l);
      } catch {
        // A failing drain plugin must not break the writer (a dyno's exit handler, the router).
      }
    }
  }

  /** The newest `n` (default 100, at most `max`) lines of an app that match, oldest first. */
  recent(app: string, opts: RecentOptions = {}): LogLine[] {
    const ring = this.rings.get(app);
    if (!ring) return [];
    return ring.newest(Math.min(opts.n ?? 100, this.max), opts);
  }

  /** Tail an app: `fn` gets each new matching line. Returns the function that stops it. */
  subscribe(app: string, fn: LogListener, filter?: LogFilter): () => void {
    let subs = this.listeners.get(app);
    if (!subs) {
      subs = new Set();
      this.listeners.set(app, subs);
    }
    const entry = { fn, filter };
    subs.add(entry);
    return () => {
      subs.delete(entry);
      if (subs.size === 0 && this.listeners.get(app) === subs) this.listeners.delete(app);
    };
  }

  /** Forget an app's buffer (app destroyed). Tails stay subscribed. */
  forget(app: string): void {
    this.rings.delete(app);
  }

  /**
   * Microseconds for a line that has none: the ms part of its time plus a counter, so lines
   * written within the same millisecond keep their order when sorted by timestamp.
   */
  private micros(time: number): number {
    const base = (time % 1000) * 1000;
    const m = this.lastMicros >= base && this.lastMicros < base + 999 ? this.lastMicros + 1 : base;
    this.lastMicros = m;
    return m;
  }
}
