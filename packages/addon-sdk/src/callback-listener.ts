/**
 * The consumer's end of asynchronous provisioning: a small loopback HTTP server (Fastify, see
 * http-server.ts) that accepts
 * the provider's `PATCH <callback_url>` (Basic auth `id:password`) and hands the body to
 * whoever waits for that `uuid`. Started on first use; unref'd so it never keeps a process up.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { addonErrors } from './errors.js';
import { createJsonServer } from './http-server.js';
import { checkBasicAuth } from './http-util.js';

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
  private app: FastifyInstance | undefined;
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
      const app = createJsonServer({ bodyLimit: 1024 * 1024 });
      app.addHook('onRequest', async (request) => {
        if (!checkBasicAuth(request.raw, this.user, this.password))
          throw addonErrors.SLIPWAY_ERR_ADDON_HTTP_AUTH();
      });
      app.setNotFoundHandler(async (request) => {
        const path = request.url.split('?')[0] ?? '/';
        if (/^\/addon-callbacks\/[^/]+\/?$/.test(path))
          throw Object.assign(
            addonErrors.SLIPWAY_ERR_ADDON_HTTP_METHOD({ method: request.method, path, allow: 'PATCH' }),
            { headers: { allow: 'PATCH, POST' } },
          );
        throw addonErrors.SLIPWAY_ERR_ADDON_HTTP_ROUTE({
          method: request.method,
          path,
          prefix: '/addon-callbacks',
        });
      });
      app.route<{ Params: { uuid: string } }>({
        method: ['PATCH', 'POST'],
        url: '/addon-callbacks/:uuid',
        handler: async (request) => {
          const { uuid } = request.params;
          const w = this.waiters.get(uuid);
          if (w) w(request.body);
          else this.early.set(uuid, request.body);
          return { message: 'ok' };
        },
      });
      await app.listen({ port: this.opts.port ?? 0, host: this.opts.host ?? '127.0.0.1' });
      const server = app.server;
      this.app = app;
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
    const app = this.app;
    this.app = undefined;
    this.server = undefined;
    this.base = undefined;
    await app?.close();
  }
}
