/**
 * Slugs for dynos on any node, without an image registry (Heroku's own design: slug + stack).
 * A dyno's boot script fetches its release's slug from this server over the overlay (through
 * the edge gateway) with a token bound to that one slug and valid for a short time, checks the
 * archive's sha256, caches it in a per-node volume and unpacks it at /app. A token is an HMAC of
 * the slug's checksum and its expiry under a key that lives only in this process: it cannot be
 * turned into another slug's token, and it is worthless after expiry or a platform restart.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SlugRef, SlugStore } from '@slipway/core';

/** Serves slug archives to holders of a valid token. */
export class SlugServer {
  private readonly key = randomBytes(32);
  private readonly refs = new Map<string, SlugRef>();
  private server: Server | undefined;
  private base = '';

  constructor(
    private readonly store: SlugStore,
    /** How long a token is good for; a dyno uses it once, while it boots. */
    private readonly ttlMs = 10 * 60_000,
    /** Connections open at once; past it a new one is closed (that dyno's boot retries). */
    private readonly maxConnections = 256,
    /** A connection that has not sent its request within this is closed. */
    private readonly requestTimeoutMs = 10_000,
  ) {}

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
        const ref = m ? this.refs.get(m[1]!) : undefined;
        const exp = Number(url.searchParams.get('exp'));
        const sig = url.searchParams.get('sig') ?? '';
        if (req.method !== 'GET' || !m || !ref || !(exp > Date.now()) || !this.valid(m[1]!, exp, sig)) {
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
    this.refs.set(hex, ref);
    const exp = Date.now() + this.ttlMs;
    return `${this.base}/slugs/${hex}?exp=${exp}&sig=${this.sign(hex, exp)}`;
  }

  /** Stop serving (fetches in flight are cut). */
  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
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
