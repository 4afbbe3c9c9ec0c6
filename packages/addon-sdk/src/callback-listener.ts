/**
 * The consumer's end of asynchronous provisioning: a small loopback HTTP server that accepts
 * the provider's `PATCH <callback_url>` (Basic auth `id:password`) and hands the body to
 * whoever waits for that `uuid`. Started on first use; unref'd so it never keeps a process up.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkBasicAuth, readJsonBody, sendJson } from './http-util.js';

/** Where the listener binds and the URL providers are told to call. */
export interface CallbackOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (any free one). */
  port?: number;
  /** URL providers should call, when it differs from the bound address (proxy, NAT). */
  publicUrl?: string;
}

/** Receives provider callbacks for one add-on. */
export class CallbackListener {
  private server: Server | undefined;
  private base: string | undefined;
  private readonly waiters = new Map<string, (body: unknown) => void>();
  private readonly early = new Map<string, unknown>();

  constructor(
    private readonly user: string,
    private readonly password: string,
    private readonly opts: CallbackOptions = {},
  ) {}

  /** The callback URL for `uuid`, starting the listener if needed. */
  async urlFor(uuid: string): Promise<string> {
    if (!this.base) {
      const server = createServer((req, res) => {
        const uuid = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.split('/').pop() ?? '');
        if (!checkBasicAuth(req, this.user, this.password)) {
          req.resume();
          return sendJson(res, 401, { message: 'bad credentials' });
        }
        if (req.method !== 'PATCH' && req.method !== 'POST') {
          req.resume();
          return sendJson(res, 405, { message: 'use PATCH' });
        }
        readJsonBody(req, 1024 * 1024).then(
          (body) => {
            const w = this.waiters.get(uuid);
            if (w) w(body);
            else this.early.set(uuid, body);
            sendJson(res, 200, { message: 'ok' });
          },
          (e: Error) => sendJson(res, 400, { message: e.message }),
        );
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
      });
      server.unref();
      this.server = server;
      const { port } = server.address() as AddressInfo;
      this.base = (this.opts.publicUrl ?? `http://${this.opts.host ?? '127.0.0.1'}:${port}`).replace(
        /\/$/,
        '',
      );
    }
    return `${this.base}/addon-callbacks/${encodeURIComponent(uuid)}`;
  }

  /** Resolve with the callback body for `uuid` (or undefined when `signal` aborts). */
  wait(uuid: string, signal: AbortSignal): Promise<unknown> {
    if (this.early.has(uuid)) {
      const b = this.early.get(uuid);
      this.early.delete(uuid);
      return Promise.resolve(b);
    }
    return new Promise((resolve) => {
      const done = (b: unknown) => {
        this.waiters.delete(uuid);
        resolve(b);
      };
      this.waiters.set(uuid, done);
      signal.addEventListener('abort', () => done(undefined), { once: true });
    });
  }

  /** Stop listening. */
  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.base = undefined;
    if (!s) return;
    const closed = new Promise<void>((r) => s.close(() => r()));
    s.closeAllConnections();
    await closed;
  }
}
