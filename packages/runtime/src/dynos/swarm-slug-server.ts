/**
 * Slugs for dynos on any node, without an image registry (Heroku's own design: slug + stack).
 * A dyno's boot script fetches its release's slug from this server over the overlay (through
 * the edge gateway) with a token bound to that one slug and valid for a short time, checks the
 * archive's sha256, caches it in a per-node volume and unpacks it at /app. A token is an HMAC of
 * the slug's checksum and its expiry under a key that lives only in this process: it cannot be
 * turned into another slug's token, and it is worthless after expiry or a platform restart.
 * The server knows a slug only while one of its tokens is valid (on the platform's Clock).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, type SlugRef, type SlugStore, systemClock } from '@slipway/core';

/** Options of a `SlugServer`. */
export interface SlugServerOptions {
  /** How long a token is good for (ms, default 10 min); a dyno uses it once, while it boots. */
  ttlMs?: number;
  /** Connections open at once (default 256); past it a new one is closed (that dyno's boot retries). */
  maxConnections?: number;
  /** A connection that has not sent its request within this is closed (ms, default 10 s). */
  requestTimeoutMs?: number;
  /** The platform's clock (tokens' expiry, forgetting slugs); default the system's. */
  clock?: Clock;
}

/** A slug URLs were issued for, until the last of its tokens expires. */
interface Issued {
  ref: SlugRef;
  /** Expiry of its latest token (epoch ms on the clock). */
  until: number;
  timer: { cancel(): void };
}

/** Serves slug archives to holders of a valid token. */
export class SlugServer {
  private readonly key = randomBytes(32);
  /** Slugs with a valid token, by checksum: a platform that deploys for months keeps only those. */
  private readonly refs = new Map<string, Issued>();
  private server: Server | undefined;
  private base = '';
  private readonly ttlMs: number;
  private readonly maxConnections: number;
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;

  constructor(
    private readonly store: SlugStore,
    o: SlugServerOptions = {},
  ) {
    this.ttlMs = o.ttlMs ?? 10 * 60_000;
    this.maxConnections = o.maxConnections ?? 256;
    this.requestTimeoutMs = o.requestTimeoutMs ?? 10_000;
    this.clock = o.clock ?? systemClock;
  }

  /** Slugs the server would serve to a valid token now. */
  get slugs(): number {
    return this.refs.size;
  }

  /** Listen on `host` (the host's side of the edge bridge); dynos reach it at `publicHost`. */
  async listen(host: string, publicHost: string): Promise<void> {
    const server = createServer(
      {
        connectionsCheckingInterval: Math.min(2_000, this.requestTimeoutMs),
        headersTimeout: this.requestTimeoutMs,
        requestTimeout: this.requestTimeoutMs,
      },
      (req, res) => {
        const url = new URL(req.url ?? '/', 'http://slug');
        const m = /^\/slugs\/([0-9a-f]{64})$/.exec(url.pathname);
        const ref = m ? this.refs.get(m[1]!)?.ref : undefined;
        const exp = Number(url.searchParams.get('exp'));
        const sig = url.searchParams.get('sig') ?? '';
        if (req.method !== 'GET' || !m || !ref || !(exp > this.clock.now()) || !this.valid(m[1]!, exp, sig)) {
          res.writeHead(m && ref ? 403 : 404).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': String(ref.size) });
        const body = this.store.open(ref);
        body.on('error', () => res.destroy());
        body.pipe(res);
      },
    );
    // Any dyno can connect: bound what idle or stalled ones can hold (file descriptors, streams
    // open in the store) so they cost a boot's fetch at worst, never the platform.
    server.maxConnections = this.maxConnections;
    server.setTimeout(60_000, (s) => s.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    this.server = server;
    this.base = `http://${publicHost}:${(server.address() as AddressInfo).port}`;
  }

  /** A URL that fetches `ref` until the token expires. */
  urlFor(ref: SlugRef): string {
    const hex = ref.checksum.replace(/^sha256:/, '');
    const exp = this.clock.now() + this.ttlMs;
    const known = this.refs.get(hex);
    if (known) known.until = exp;
    else this.refs.set(hex, { ref, until: exp, timer: this.forgetAt(hex, exp) });
    return `${this.base}/slugs/${hex}?exp=${exp}&sig=${this.sign(hex, exp)}`;
  }

  /** Stop serving (fetches in flight are cut). */
  async close(): Promise<void> {
    for (const e of this.refs.values()) e.timer.cancel();
    this.refs.clear();
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }

  /** Forget slug `hex` at `at`, or later if a token issued meanwhile expires later. */
  private forgetAt(hex: string, at: number): { cancel(): void } {
    return this.clock.setTimeout(() => {
      const e = this.refs.get(hex);
      if (!e) return;
      if (this.clock.now() >= e.until) this.refs.delete(hex);
      else e.timer = this.forgetAt(hex, e.until);
    }, at - this.clock.now());
  }

  private sign(hex: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${hex}:${exp}`).digest('hex');
  }

  private valid(hex: string, exp: number, sig: string): boolean {
    const want = Buffer.from(this.sign(hex, exp));
    const got = Buffer.from(sig);
    return want.length === got.length && timingSafeEqual(want, got);
  }
}
