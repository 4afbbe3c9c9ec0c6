/**
 * WebSocket (and any HTTP/1.1 Upgrade) passthrough: the handshake is routed like any request,
 * then bytes flow both ways untouched until either side closes or nothing moves for the idle
 * window (H15). The router logs the handshake (status 101), as Heroku does.
 */
import http, { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { upstreamRequestHeaders, VIA } from './forwarded-headers.js';
import { H_CODES, type HCodeName, NO_SUCH_APP, renderError } from './h-codes.js';
import { editRequestHeaders } from './header-edits.js';
import { formatRequestLine } from './log-line.js';
import { type Routed, type RouterContext, routeRequest } from './routing.js';
import type { TargetState } from './target-pool.js';

const STATE_CODES = { 'no-release': 'H81', 'no-web': 'H14', crashed: 'H10', booting: 'H20' } as const;

/** Handle an `upgrade` event of an HTTP or HTTPS listener. */
export function handleUpgrade(
  ctx: RouterContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  protocol: 'http' | 'https',
): void {
  const start = Date.now();
  let routed: Routed | undefined;
  let app: string | undefined;
  let dyno = '';
  let connectMs = 0;
  let logged = false;
  socket.on('error', () => socket.destroy());

  const log = (status: number, code?: HCodeName, bytes = 0): void => {
    if (logged || ctx.log === undefined || app === undefined || routed === undefined) return;
    logged = true;
    const total = Date.now() - start;
    ctx.log.write({
      app,
      time: Date.now(),
      source: 'slipway',
      dyno: 'router',
      message: formatRequestLine({
        code,
        desc: code ? H_CODES[code].desc : undefined,
        method: req.method ?? '',
        path: req.url ?? '',
        host: routed.host,
        requestId: routed.requestId,
        fwd: routed.fwd,
        dyno,
        connectMs,
        serviceMs: Math.max(0, total - connectMs),
        status,
        bytes,
        protocol: protocol === 'https' ? 'https' : 'http',
      }),
    });
  };

  const reject = (
    status: number,
    info: { code?: string; desc: string; page: string },
    detail?: string,
  ): void => {
    const page = detail ? `${info.page} (${detail})` : info.page;
    const { contentType, body } = renderError(
      { ...info, status, page },
      routed?.requestId ?? '-',
      req.headers.accept,
    );
    const len = Buffer.byteLength(body);
    if (socket.writable)
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: ${contentType}\r\n` +
          `Content-Length: ${len}\r\nCache-Control: no-cache, no-store\r\nVia: ${VIA}\r\nConnection: close\r\n\r\n${body}`,
      );
    else socket.destroy();
    log(status, info.code as HCodeName | undefined, len);
  };
  const fail = (name: HCodeName, detail?: string): void =>
    reject(H_CODES[name].status, H_CODES[name], detail);

  try {
    routed = routeRequest(ctx, req, protocol);
  } catch (e) {
    ctx.onError(e);
    fail('H99');
    return;
  }
  const d = routed.decision;
  if (d.kind !== 'none') app = d.app;
  if (routed.restriction !== undefined) {
    fail('H25', routed.restriction);
    return;
  }
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
    fail('H25', 'only WebSocket upgrades are supported');
    return;
  }
  if (d.kind === 'none') {
    reject(NO_SUCH_APP.status, NO_SUCH_APP);
    return;
  }
  if (d.kind === 'respond') {
    const info = d.code && d.code in H_CODES ? H_CODES[d.code as HCodeName] : undefined;
    reject(d.status, {
      ...(d.code ? { code: d.code } : {}),
      desc: info?.desc ?? 'Unavailable',
      page: d.body,
    });
    return;
  }
  if (d.kind === 'redirect') {
    socket.end(
      `HTTP/1.1 ${d.status} ${STATUS_CODES[d.status]}\r\nLocation: ${d.location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    log(d.status);
    return;
  }
  const route = ctx.table.route(d.app);
  if (route === undefined) {
    reject(NO_SUCH_APP.status, NO_SUCH_APP);
    return;
  }
  if (route.state !== 'ok') {
    fail(STATE_CODES[route.state]);
    return;
  }
  if (route.targets.length === 0) {
    fail('H14');
    return;
  }

  const edits = d.requestHeaders;
  const headers = upstreamRequestHeaders(edits ? editRequestHeaders(req.rawHeaders, edits) : req.rawHeaders, {
    requestId: routed.requestId,
    forwardedFor: routed.fwd,
    proto: protocol,
    port: req.socket.localPort ?? 0,
    start,
    upgrade: true,
  });
  let tried: Set<string> | undefined;
  let done = false;
  let current: http.ClientRequest | undefined;
  const handshakeTimer = setTimeout(() => {
    done = true;
    current?.destroy();
    fail('H12');
  }, ctx.timeouts.firstByte);
  socket.on('close', () => {
    if (done) return;
    done = true;
    clearTimeout(handshakeTimer);
    current?.destroy();
    log(H_CODES.H27.status, 'H27');
  });

  const giveUp = (name: HCodeName): void => {
    done = true;
    clearTimeout(handshakeTimer);
    fail(name);
  };
  const attempt = (lastCode?: 'H19' | 'H21'): void => {
    const pick = ctx.pool.pick(route.targets, Date.now(), tried);
    if (pick.kind === 'busy') {
      giveUp('H11');
      return;
    }
    if (pick.kind === 'none') {
      giveUp(lastCode ?? pick.code ?? 'H21');
      return;
    }
    const t: TargetState = pick.target;
    dyno = t.dyno;
    const attemptStart = Date.now();
    ctx.pool.acquire(t, attemptStart);
    let released = false;
    const release = (): void => {
      if (!released) ctx.pool.release(t, d.app);
      released = true;
    };
    let connected = false;
    // A fresh connection per upgrade: it becomes the tunnel and never returns to a pool.
    const up = http.request({
      host: t.host,
      port: t.port,
      method: req.method,
      path: req.url,
      headers: headers as unknown as http.OutgoingHttpHeaders,
      agent: false,
      setHost: false,
    });
    current = up;
    const connectTimer = setTimeout(
      () => up.destroy(Object.assign(new Error('connect timeout'), { h19: true })),
      ctx.timeouts.connect,
    );
    up.on('socket', (s) =>
      s.once('connect', () => {
        clearTimeout(connectTimer);
        connected = true;
        connectMs = Date.now() - attemptStart;
      }),
    );
    up.on('error', (err) => {
      clearTimeout(connectTimer);
      release();
      if (done) return;
      if (!connected) {
        const code = (err as { h19?: boolean }).h19 ? 'H19' : 'H21';
        ctx.pool.quarantine(t, code, Date.now());
        tried ??= new Set();
        tried.add(t.key);
        attempt(code);
        return;
      }
      giveUp('H13');
    });
    up.on('response', (res) => {
      // The app refused the upgrade: relay its answer, then close.
      done = true;
      clearTimeout(handshakeTimer);
      let bytes = 0;
      socket.write(`HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n${rawHead(res.rawHeaders, true)}\r\n`);
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        socket.write(c);
      });
      res.on('end', () => {
        socket.end();
        release();
        log(res.statusCode ?? 502, undefined, bytes);
      });
      res.on('error', () => socket.destroy());
    });
    up.on('upgrade', (res, upSocket, upHead) => {
      done = true;
      clearTimeout(handshakeTimer);
      release();
      socket.write(
        `HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}\r\n${rawHead(res.rawHeaders, false)}\r\n`,
      );
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      log(101);
      tunnel(socket, upSocket, ctx.timeouts.idle);
    });
    up.end();
  };
  attempt();
}

/** Response head lines; `close` replaces hop-by-hop headers with `Connection: close`. */
function rawHead(raw: readonly string[], close: boolean): string {
  let s = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'via') continue;
    if (close && (lower === 'connection' || lower === 'keep-alive' || lower === 'transfer-encoding'))
      continue;
    s += `${name}: ${raw[i + 1]}\r\n`;
  }
  s += `Via: ${VIA}\r\n`;
  if (close) s += 'Connection: close\r\n';
  return s;
}

/** Pipe two sockets into each other; close both when either closes or both sit idle. */
function tunnel(a: Duplex, b: Duplex, idleMs: number): void {
  const close = (): void => {
    a.destroy();
    b.destroy();
  };
  const timer = setTimeout(close, idleMs);
  const touch = (): void => {
    timer.refresh();
  };
  a.on('data', touch);
  b.on('data', touch);
  a.on('close', () => {
    clearTimeout(timer);
    b.destroy();
  });
  b.on('close', () => {
    clearTimeout(timer);
    a.destroy();
  });
  b.on('error', close);
  a.pipe(b);
  b.pipe(a);
}
