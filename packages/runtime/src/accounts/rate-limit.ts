/**
 * Sign-in throttling, in memory: a fixed window of failed attempts per key (email+address and
 * address alone). An attempt is counted before its password is checked, so attempts sent in
 * parallel cannot all pass the check; a success then clears the email+address key and takes its
 * count back from the address key, which otherwise only ages out, so one address cannot try many
 * emails quickly. At most `maxKeys` keys are kept: memory stays bounded however many addresses
 * an attacker has.
 */

/** Failed-attempt counter per key over a window. */
export class AttemptLimiter {
  private readonly hits = new Map<string, { n: number; until: number }>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
    readonly maxKeys = 10_000,
  ) {}

  /** Keys held. */
  get size(): number {
    return this.hits.size;
  }

  /** Seconds to wait before `key` may try again; 0 = go ahead. */
  retryAfter(key: string, at = Date.now()): number {
    const h = this.hits.get(key);
    if (!h || h.until <= at) return 0;
    return h.n >= this.max ? Math.ceil((h.until - at) / 1000) : 0;
  }

  /** Count one failure of `key` (or an attempt not yet judged: see `forgive`). */
  fail(key: string, at = Date.now()): void {
    const h = this.hits.get(key);
    if (h && h.until > at) h.n++;
    else {
      // Re-inserted, so the map's order stays oldest window first.
      this.hits.delete(key);
      this.hits.set(key, { n: 1, until: at + this.windowMs });
    }
    if (this.hits.size <= this.maxKeys) return;
    for (const [k, v] of this.hits) if (v.until <= at) this.hits.delete(k);
    // Still full (a spray from many addresses within one window): the oldest windows go first.
    for (const k of this.hits.keys()) {
      if (this.hits.size <= this.maxKeys) break;
      this.hits.delete(k);
    }
  }

  /** Take back one attempt of `key` counted with `fail` that turned out a success. */
  forgive(key: string): void {
    const h = this.hits.get(key);
    if (h && h.n > 0) h.n--;
  }

  /** Forget `key` (after a success). */
  clear(key: string): void {
    this.hits.delete(key);
  }
}
