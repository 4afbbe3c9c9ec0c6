/**
 * A per-dyno budget for log output, so that one app's log flood costs the platform a bounded
 * amount of work and never slows other apps. Each dyno has a token bucket: a line costs one
 * token plus one per started kilobyte; the bucket refills at `perSecond` and holds `burst`.
 * Lines over the budget are dropped, not queued (queueing would only move the growth
 * elsewhere), and the drop is reported logplex style, at most once a second per dyno:
 * `Error L10 (output buffer overflow): N messages dropped since <time>`.
 */
import { formatLogTime } from './log-hub.js';

/** How much a dyno may log. */
export interface LogBudgetOptions {
  /** Tokens added per second (a short line costs 1, a 10 kB line 11); default 2000. */
  perSecond?: number;
  /** Most tokens saved up, i.e. the largest burst; default 10,000. */
  burst?: number;
  /** Least time between two L10 reports of one dyno; default 1 s. */
  reportEveryMs?: number;
}

interface Bucket {
  tokens: number;
  at: number;
  dropped: number;
  droppedSince: number;
  reportedAt: number;
}

/** Token buckets by dyno; `admit` says whether a line may be logged. */
export class LogBudget {
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly reportEveryMs: number;
  private readonly buckets = new Map<string, Bucket>();
  private prunedAt = 0;

  constructor(opts: LogBudgetOptions = {}) {
    this.perSecond = opts.perSecond ?? 2000;
    this.burst = opts.burst ?? 10_000;
    this.reportEveryMs = opts.reportEveryMs ?? 1000;
  }

  /**
   * Whether a line of `bytes` from `key` fits its budget. `report` gets the L10 message when
   * lines were dropped and the last report is at least `reportEveryMs` old.
   */
  admit(key: string, bytes: number, report: (message: string) => void, now = Date.now()): boolean {
    let b = this.buckets.get(key);
    if (!b) {
      this.prune(now);
      b = { tokens: this.burst, at: now, dropped: 0, droppedSince: 0, reportedAt: 0 };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.perSecond) / 1000);
    b.at = now;
    const cost = 1 + Math.ceil(bytes / 1024);
    const ok = b.tokens >= cost;
    if (ok) b.tokens -= cost;
    else if (b.dropped++ === 0) b.droppedSince = now;
    if (b.dropped > 0 && now - b.reportedAt >= this.reportEveryMs) this.report(b, report, now);
    return ok;
  }

  /** The dyno is gone: report what is still unreported and forget it. */
  forget(key: string, report: (message: string) => void): void {
    const b = this.buckets.get(key);
    if (b?.dropped) this.report(b, report, Date.now());
    this.buckets.delete(key);
  }

  /** Output can trail a dyno's exit (and its `forget`): buckets idle for a minute go. */
  private prune(now: number): void {
    if (now - this.prunedAt < 60_000) return;
    this.prunedAt = now;
    for (const [k, b] of this.buckets) if (now - b.at > 60_000 && !b.dropped) this.buckets.delete(k);
  }

  private report(b: Bucket, report: (message: string) => void, now: number): void {
    const since = formatLogTime({ time: b.droppedSince }).replace(/\.\d+/, '');
    report(`Error L10 (output buffer overflow): ${b.dropped} messages dropped since ${since}`);
    b.dropped = 0;
    b.reportedAt = now;
  }
}
