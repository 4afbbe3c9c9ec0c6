/**
 * The HTTPS listener: HTTP/2 and HTTP/1.1 on one port, chosen by ALPN (`h2` first, `http/1.1`,
 * or none: HTTP/1.1). HTTP/1.1 connections are served by Node's HTTP server code with the same
 * options as the plain listener; HTTP/2 sessions are tracked so that closing the router says
 * GOAWAY to each (streams under way may finish) and can cut them after the grace period. An
 * HTTP/2 session idle for the keep-alive timeout is closed the same way, as an idle HTTP/1.1
 * connection is.
 */
import type http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import type tls from 'node:tls';
import type { RouterLimits } from './limits.js';

/** A server of the router and how to end its connections. */
export interface Listener {
  readonly server: net.Server;
  /** Close the connections that carry no request now (HTTP/2: GOAWAY, open streams finish). */
  closeIdle(): void;
  /** Cut every connection. */
  closeAll(): void;
}

/** HTTP/2 streams one session may have open at once (HAProxy's default, which nginx's is close to). */
const MAX_CONCURRENT_STREAMS = 100;

/** The pseudo-headers a request may carry beyond its headers (`:method`, `:scheme`, `:authority`, `:path`, `:protocol`). */
const PSEUDO_HEADERS = 5;

/**
 * Create the HTTPS server. `http1` are the options of the plain HTTP server (limits and
 * timeouts), applied to HTTP/1.1 connections; HTTP/2 gets the same header limits, one more
 * header than allowed passing the protocol so that the router's guard refuses it with H25.
 */
export function createTlsListener(
  tlsOptions: tls.TlsOptions,
  http1: http.ServerOptions,
  limits: RouterLimits,
  idleMs: number,
): Listener & { readonly server: http2.Http2SecureServer } {
  const server = http2.createSecureServer({
    ...tlsOptions,
    allowHTTP1: true,
    maxHeaderListPairs: limits.headers + 1 + PSEUDO_HEADERS,
    settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, maxHeaderListSize: limits.headBytes },
  });
  // Node's HTTP/1.1 code reads these from the server object (http.createServer sets them from
  // its options; the HTTP/2 server takes none of them).
  Object.assign(server, {
    maxHeaderSize: http1.maxHeaderSize,
    insecureHTTPParser: http1.insecureHTTPParser,
    requireHostHeader: http1.requireHostHeader,
    requestTimeout: http1.requestTimeout,
    headersTimeout: http1.headersTimeout,
    keepAliveTimeout: http1.keepAliveTimeout,
  });
  // A failed handshake just closes the connection, as on Node's HTTPS server: by default this
  // server reports it as an HTTP client error, whose handler would answer it in HTTP/1.1.
  server.removeAllListeners('tlsClientError');
  server.on('tlsClientError', (_err, socket) => socket.destroy());

  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    let open = 0;
    const idle = () => {
      if (open === 0) session.close();
    };
    session.on('stream', (stream) => {
      open++;
      // The idle timer may have run out while this stream was open (a slow answer, a stalled
      // upload): counted again from its end, or the session would never be closed.
      stream.once('close', () => {
        if (--open === 0) session.setTimeout(idleMs, idle);
      });
    });
    session.setTimeout(idleMs, idle);
    session.once('close', () => sessions.delete(session));
  });
  return {
    server,
    closeIdle() {
      // Node's HTTP/1.1 connections of this server (missing from @types/node's declaration).
      (server as unknown as { closeIdleConnections(): void }).closeIdleConnections();
      for (const s of sessions) s.close();
    },
    closeAll() {
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
    },
  };
}
