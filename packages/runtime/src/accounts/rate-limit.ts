/**
 * Sign-in throttling, in memory: a fixed window of failed attempts per key (email+address and
 * address alone). A success clears the email+address key; the address key only ages out, so
 * one address cannot try many emails quickly.
 */

/** Failed-attempt counter per key over a window. */
export class AttemptLimiter {
  private readonly hits = new Map<string, { n: number; until: number }>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** Seconds to wait before `key` may try again; 0 = go ahead. */
  retryAfter(key: string, at = Date.now()): number {
    const h = this.hits.get(key);
    if (!h || h.until <= at) return 0;
    return h.n >= this.max ? Math.ceil((h.until - at) / 1000) : 0;
  }

  /** Count one failure of `key`. */
  fail(key: string, at = Date.now()): void {
    const h = this.hits.get(key);
    if (!h || h.until <= at) this.hits.set(key, { n: 1, until: at + this.windowMs });
    else h.n++;
    // Old entries go when the map grows: memory stays bounded under a spray of addresses.
    if (this.hits.size > 10_000) for (const [k, v] of this.hits) if (v.until <= at) this.hits.delete(k);
  }

  /** Forget `key` (after a success). */
  clear(key: string): void {
    this.hits.delete(key);
  }
}
