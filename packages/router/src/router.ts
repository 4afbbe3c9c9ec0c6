/**
 * `createRouter`: the HTTP (and optional HTTPS) entry point of the platform. It owns its
 * listeners, the dyno connection pools and backlogs; the route table and the kernel's `route`
 * hook decide where each request goes.
 */
import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { clockRef, type Kernel, type LogSink, logSinkRef, SlipwayError, systemClock } from '@slipway/core';
import { routerErrors } from './errors.js';
import { VIA } from './forwarded-headers.js';
import { H_CODES, renderError } from './h-codes.js';
import { normalizeHost } from './host.js';
import { handleRequest } from './http-proxy.js';
import { handleTlsRequest } from './http2-adapter.js';
import { DEFAULT_LIMITS, DEFAULT_TIMEOUTS, type RouterLimits, type RouterTimeouts } from './limits.js';
import { listenProxied } from './proxied-listener.js';
import { RuleCache } from './route-rules-cache.js';
import type { RouteTable } from './route-table.js';
import type { RouterContext } from './routing.js';
import { type BalanceStrategy, TargetPool } from './target-pool.js';
import { type RouterTlsOptions, tlsServerOptions, tlsStore } from './tls-certificates.js';
import { createTlsListener, type Listener } from './tls-listener.js';
import { handleUpgrade } from './websocket-proxy.js';

/** Options of `createRouter`. */
export interface RouterOptions {
  /** Route table: hosts to apps, apps to web dynos. */
  table: RouteTable;
  /** Apps answer at `<app>.<baseDomain>`. */
  baseDomain: string;
  /** Kernel whose `route` hook may change decisions, and whose LogSink receives lines by default. */
  kernel?: Kernel;
  /** Where the per-request lines go (default: the kernel's LogSink, else nowhere). */
  log?: LogSink;
  /** Override some timeouts (ms). */
  timeouts?: Partial<RouterTimeouts>;
  /** Override some limits. */
  limits?: Partial<RouterLimits>;
  /** Serve HTTPS too (`listenTls`), with these certificates (files, or a store replaced at run time). */
  tls?: RouterTlsOptions;
  /** Dyno choice: power of two choices on in-flight requests (default) or random. */
  balance?: BalanceStrategy;
  /** Told about each failure answered with H99 (default: one line on stderr). */
  onError?: (err: unknown) => void;
  /**
   * Idle keep-alive connections kept per dyno (default 64). An idle one is also closed after
   * 4 s, or sooner when the dyno's `Keep-Alive: timeout` hint says so.
   */
  maxIdleSocketsPerDyno?: number;
  /** Keep connections to dynos open between requests (default true). */
  upstreamKeepAlive?: boolean;
}

/** A running router. */
export interface Router {
  /** Listen for HTTP; resolves with the bound address (port 0 picks a free port). */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /** Listen for HTTPS (HTTP/2 and HTTP/1.1, by ALPN) with the configured certificates. */
  listenTls(port?: number, host?: string): Promise<AddressInfo>;
  /** Stop listening; in-flight requests get `graceMs` to finish, then connections are cut. */
  close(graceMs?: number): Promise<void>;
  /** HTTP address once listening. */
  readonly address: AddressInfo | undefined;
  /** HTTPS address once listening. */
  readonly tlsAddress: AddressInfo | undefined;
  /** Requests waiting for a free dyno of `app` (for metrics and tests). */
  backlog(app: string): number;
}

/** The Node router, which can also serve behind the HAProxy data plane (`proxied-listener.ts`). */
export interface NodeRouter extends Router {
  /** Serve `protocol` requests handed over Unix socket `path` with a PROXY v1 line. */
  listenProxied(path: string, protocol: 'http' | 'https'): Promise<void>;
}

/** Idle keep-alive connections to a dyno are closed after this (ms). */
const UPSTREAM_IDLE_MS = 4_000;

function positive(field: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw routerErrors.SLIPWAY_ERR_ROUTER_OPTION({
      field,
      detail: `must be a positive number, got ${value}`,
    });
  return value;
}

/** Answer a request the HTTP parser refused: 400, connection closed, never forwarded. */
function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A response already under way on this connection (the error came while reading the body):
  // a second response would corrupt the stream, so just cut it.
  const current = (socket as Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || current?.headersSent) {
    socket.destroy();
    return;
  }
  const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const status = timeout ? 408 : H_CODES.H25.status;
  const detail = timeout
    ? 'the request head was not received in time'
    : `malformed request (${err.code ?? 'parse error'})`;
  const { contentType, body } = renderError(
    { code: 'H25', status, desc: H_CODES.H25.desc, page: `${H_CODES.H25.page} (${detail})` },
    '-',
    undefined,
  );
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: ${contentType}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nVia: ${VIA}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Create a router. Nothing listens until `listen`/`listenTls`. */
export function createRouter(options: RouterOptions): NodeRouter {
  const baseDomain = normalizeHost(options.baseDomain);
  if (!baseDomain) throw routerErrors.SLIPWAY_ERR_ROUTER_BASE_DOMAIN({ domain: options.baseDomain });
  const limits: RouterLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const timeouts: RouterTimeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  for (const [k, v] of Object.entries(limits)) positive(`limits.${k}`, v);
  for (const [k, v] of Object.entries(timeouts)) positive(`timeouts.${k}`, v);
  const pool = new TargetPool({
    inFlightPerDyno: limits.inFlightPerDyno,
    backlogPerDyno: limits.backlogPerDyno,
    quarantineMs: timeouts.quarantine,
    strategy: options.balance ?? 'p2c',
    keepAlive: options.upstreamKeepAlive ?? true,
    connectTimeout: timeouts.connect,
    // Below Node's default server keep-alive timeout (5 s), so a dyno rarely closes a
    // connection just as the router reuses it.
    idleTimeout: UPSTREAM_IDLE_MS,
    maxFreeSockets: options.maxIdleSocketsPerDyno ?? 64,
  });
  const onError =
    options.onError ??
    ((e: unknown) =>
      console.error(`slipway router: H99: ${e instanceof SlipwayError ? e.describe() : String(e)}`));
  const kernel = options.kernel;
  const rulesCache = kernel
    ? new RuleCache({
        rules: kernel.hooks.routeRules,
        changed: kernel.hooks.routeRulesChanged,
        onError,
        clock: kernel.tryResolve(clockRef) ?? systemClock,
      })
    : undefined;
  // A tap may read what the table knows (an app's dynos, its domains).
  options.table.onChange?.(() => rulesCache?.clear());
  const ctx: RouterContext = {
    table: options.table,
    baseDomain,
    pool,
    limits,
    timeouts,
    routeHook: options.kernel?.hooks.route,
    rulesHook: options.kernel?.hooks.routeRules,
    rules: rulesCache,
    log: options.log ?? options.kernel?.tryResolve(logSinkRef),
    onError,
  };
  const certificates = options.tls ? tlsStore(options.tls) : undefined;
  const serverOptions: http.ServerOptions = {
    maxHeaderSize: limits.headBytes,
    insecureHTTPParser: false,
    requireHostHeader: false,
    requestTimeout: 0,
    headersTimeout: timeouts.headers,
    keepAliveTimeout: timeouts.keepAlive,
  };

  const listeners: Listener[] = [];
  /** Serve the router's HTTP/1.1 requests (and WebSocket upgrades) from `server`. */
  const serveHttp1 = (server: http.Server | net.Server, protocol: 'http' | 'https'): void => {
    const s = server as http.Server;
    // One more than the limit, so that "too many headers" is seen rather than silently cut.
    s.maxHeadersCount = limits.headers + 1;
    // A client may half-close after sending its request (`nc -N`, some proxies and scripts):
    // it still gets its answer. Node's default aborts the request on the client's FIN (H27).
    (s as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
    s.on('upgrade', (req, socket, head) => {
      try {
        handleUpgrade(ctx, req, socket, head, protocol);
      } catch (e) {
        ctx.onError(e);
        socket.destroy();
      }
    });
    s.on('clientError', onClientError);
  };
  const setup = (server: http.Server, protocol: 'http' | 'https'): http.Server => {
    serveHttp1(server, protocol);
    server.on('request', (req, res) => handleRequest(ctx, req, res, protocol));
    listeners.push({
      server,
      closeIdle: () => server.closeIdleConnections(),
      closeAll: () => server.closeAllConnections(),
    });
    return server;
  };
  const listenOn = (server: net.Server, port: number, host: string): Promise<AddressInfo> =>
    new Promise((resolve, reject) => {
      const onError = (e: Error): void =>
        reject(routerErrors.SLIPWAY_ERR_ROUTER_LISTEN({ host, port, detail: e.message }, { cause: e }));
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve(server.address() as AddressInfo);
      });
    });

  let httpServer: http.Server | undefined;
  let tlsListener: Listener | undefined;
  const fronts: net.Server[] = [];
  return {
    async listenProxied(path, protocol) {
      const server = setup(http.createServer(serverOptions), protocol);
      fronts.push(await listenProxied(server, path));
    },
    listen(port = 0, host = '127.0.0.1') {
      httpServer ??= setup(http.createServer(serverOptions), 'http');
      return listenOn(httpServer, port, host);
    },
    listenTls(port = 0, host = '127.0.0.1') {
      if (certificates === undefined) return Promise.reject(routerErrors.SLIPWAY_ERR_ROUTER_TLS_MISSING());
      if (tlsListener === undefined) {
        const l = createTlsListener(
          tlsServerOptions(certificates),
          serverOptions,
          limits,
          timeouts.keepAlive,
        );
        serveHttp1(l.server, 'https');
        l.server.on('request', (req, res) => handleTlsRequest(ctx, req, res));
        listeners.push(l);
        tlsListener = l;
      }
      return listenOn(tlsListener.server, port, host);
    },
    async close(graceMs = 0) {
      for (const f of fronts.splice(0)) f.close();
      await Promise.all(
        listeners.map(
          (l) =>
            new Promise<void>((resolve) => {
              const s = l.server;
              if (!s.listening) {
                // Behind HAProxy (listenProxied): its connections were handed over, never accepted.
                l.closeAll();
                return resolve();
              }
              const cut = setTimeout(() => l.closeAll(), graceMs);
              s.close(() => {
                clearTimeout(cut);
                resolve();
              });
              l.closeIdle();
              if (graceMs === 0) l.closeAll();
            }),
        ),
      );
      pool.close();
    },
    get address() {
      return httpServer?.listening ? (httpServer.address() as AddressInfo) : undefined;
    },
    get tlsAddress() {
      return tlsListener?.server.listening ? (tlsListener.server.address() as AddressInfo) : undefined;
    },
    backlog: (app) => pool.backlog(app),
  };
}
