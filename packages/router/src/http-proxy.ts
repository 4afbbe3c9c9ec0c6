/**
 * One proxied HTTP request (an "exchange"): route it, pick a dyno, stream the request and the
 * response without buffering, enforce the timeouts, retry on another dyno when a connection
 * is refused before anything was sent, and write one log line when the client side closes.
 */
import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { LogSink, RouteDecision } from '@slipway/core';
import { downstreamResponseHeaders, upstreamRequestHeaders, VIA } from './forwarded-headers.js';
import { H_CODES, type HCodeName, NO_SUCH_APP, renderError } from './h-codes.js';
import { formatRequestLine } from './log-line.js';
import type { AppRoute } from './route-table.js';
import { type RouterContext, routeRequest } from './routing.js';
import type { BacklogWaiter, TargetState } from './target-pool.js';

/** Attempts per request (Heroku retries a refused connection up to 10 times). */
const MAX_ATTEMPTS = 10;

const CONNECT_TIMEOUT = Symbol('connect timeout');

/** Methods a router may repeat after a reset of a reused connection (RFC 9110 safe methods). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Answers for app states that have no dyno to send to. */
const STATE_CODES: Record<Exclude<AppRoute['state'], 'ok'>, HCodeName> = {
  'no-release': 'H81',
  'no-web': 'H14',
  crashed: 'H10',
  booting: 'H20',
};

/** Handle one request of an HTTP or HTTPS listener. */
export function handleRequest(
  ctx: RouterContext,
  req: IncomingMessage,
  res: ServerResponse,
  protocol: 'http' | 'https',
): void {
  new Exchange(ctx, req, res, protocol).run();
}

class Exchange implements BacklogWaiter {
  private readonly start = Date.now();
  private app: string | undefined;
  private host = '';
  private requestId = '';
  private fwd = '';
  private code: string | undefined;
  private desc: string | undefined;
  private status = 0;
  private bytes = 0;
  private connectMs = 0;
  private route: AppRoute | undefined;
  private target: TargetState | undefined;
  private up: ClientRequest | undefined;
  private headers: string[] | undefined;
  private attempts = 0;
  private tried: Set<string> | undefined;
  private lastCode: 'H19' | 'H21' | undefined;
  private connected = false;
  private bodyStarted = false;
  private responded = false;
  private done = false;
  private queued = false;
  private timer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private readonly hasBody: boolean;

  constructor(
    private readonly ctx: RouterContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly protocol: 'http' | 'https',
  ) {
    const h = req.headers;
    const cl = h['content-length'];
    this.hasBody = h['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
  }

  run(): void {
    this.res.on('close', () => this.onClientClose());
    // Anything thrown while routing (a route tap, the runtime's table) is a platform error for
    // this request, never a crash of the router.
    try {
      this.route0();
    } catch (e) {
      this.ctx.onError(e);
      this.fail('H99');
    }
  }

  private route0(): void {
    const routed = routeRequest(this.ctx, this.req, this.protocol);
    this.host = routed.host;
    this.requestId = routed.requestId;
    this.fwd = routed.fwd;
    const d = routed.decision;
    if (d.kind !== 'none') this.app = d.app;
    if (routed.restriction !== undefined) {
      this.fail('H25', routed.restriction, true);
      return;
    }
    this.decide(d);
  }

  private decide(d: RouteDecision): void {
    switch (d.kind) {
      case 'none':
        this.answer(NO_SUCH_APP.status, undefined, NO_SUCH_APP);
        return;
      case 'respond': {
        this.code = d.code;
        this.desc = d.code ? (H_CODES[d.code as HCodeName]?.desc ?? d.code) : undefined;
        this.send(d.status, d.headers ?? { 'Content-Type': 'text/html; charset=utf-8' }, d.body);
        return;
      }
      case 'redirect':
        this.send(d.status, { Location: d.location, 'Content-Type': 'text/plain; charset=utf-8' }, '');
        return;
      case 'app':
        break;
    }
    const route = this.ctx.table.route(d.app);
    if (route === undefined) {
      this.answer(NO_SUCH_APP.status, undefined, NO_SUCH_APP);
      return;
    }
    if (route.state !== 'ok') {
      this.fail(STATE_CODES[route.state]);
      return;
    }
    if (route.targets.length === 0) {
      this.fail('H14');
      return;
    }
    this.route = route;
    this.timer = setTimeout(() => this.fail('H12'), this.ctx.timeouts.firstByte);
    this.dispatch();
  }

  /** Backlog callback: a dyno freed a slot. */
  wake(): boolean {
    if (this.done) return true;
    // The table may have changed while the request waited.
    const route = this.ctx.table.route(this.app!);
    if (route === undefined || route.state !== 'ok' || route.targets.length === 0) {
      this.queued = false;
      this.fail(route === undefined ? 'H99' : route.state === 'ok' ? 'H14' : STATE_CODES[route.state]);
      return true;
    }
    this.route = route;
    const pick = this.ctx.pool.pick(route.targets, Date.now(), this.tried);
    if (pick.kind === 'busy') return false;
    this.queued = false;
    if (pick.kind === 'none') this.fail(pick.code ?? this.lastCode ?? 'H21');
    else this.forward(pick.target);
    return true;
  }

  private dispatch(): void {
    const route = this.route!;
    const pick = this.ctx.pool.pick(route.targets, Date.now(), this.tried);
    if (pick.kind === 'target') {
      this.forward(pick.target);
      return;
    }
    if (pick.kind === 'none') {
      this.fail(this.lastCode ?? pick.code ?? 'H21');
      return;
    }
    if (!this.ctx.pool.enqueue(this.app!, route.targets.length, this)) {
      this.fail('H11');
      return;
    }
    this.queued = true;
  }

  private forward(t: TargetState): void {
    const ctx = this.ctx;
    const now = Date.now();
    ctx.pool.acquire(t, now);
    this.target = t;
    this.attempts++;
    this.connected = false;
    this.headers ??= upstreamRequestHeaders(this.req.rawHeaders, {
      requestId: this.requestId,
      forwardedFor: this.fwd,
      proto: this.protocol,
      port: this.req.socket.localPort ?? 0,
      start: this.start,
      upgrade: false,
    });
    const up = http.request({
      host: t.host,
      port: t.port,
      method: this.req.method,
      path: this.req.url,
      headers: this.headers as unknown as http.OutgoingHttpHeaders,
      agent: t.agent,
      setHost: false,
    });
    this.up = up;
    up.on('socket', (socket) => {
      if (!socket.connecting) return this.onConnected(up, now, true);
      this.connectTimer = setTimeout(
        () => up.destroy(Object.assign(new Error('connect timeout'), { [CONNECT_TIMEOUT]: true })),
        ctx.timeouts.connect,
      );
      socket.once('connect', () => this.onConnected(up, now, false));
    });
    up.on('response', (upRes) => this.onResponse(up, upRes));
    up.on('error', (err) => this.onUpstreamError(up, err));
    // A request without a body goes out at once; a body is only read once a dyno accepted the
    // connection, so a refused connection can be retried elsewhere with the body intact.
    if (!this.hasBody) up.end();
  }

  private onConnected(up: ClientRequest, attemptStart: number, reused: boolean): void {
    if (up !== this.up || this.done) return;
    clearTimeout(this.connectTimer);
    this.connected = true;
    this.connectMs = reused ? 0 : Date.now() - attemptStart;
    if (this.hasBody && !this.bodyStarted) {
      this.bodyStarted = true;
      this.req.on('data', this.onActivity);
      this.req.pipe(up);
    }
  }

  private readonly onActivity = (): void => {
    if (this.responded) this.timer?.refresh();
  };

  private onResponse(up: ClientRequest, upRes: IncomingMessage): void {
    if (up !== this.up || this.done) {
      upRes.resume();
      return;
    }
    clearTimeout(this.timer);
    const res = this.res;
    try {
      res.writeHead(
        upRes.statusCode ?? 502,
        downstreamResponseHeaders(upRes.rawHeaders) as unknown as http.OutgoingHttpHeaders,
      );
    } catch {
      // A response head Node refuses to relay (invalid header): the app broke HTTP.
      upRes.resume();
      this.fail('H99');
      return;
    }
    this.responded = true;
    this.status = upRes.statusCode ?? 502;
    this.timer = setTimeout(() => this.fail('H15'), this.ctx.timeouts.idle);
    // A hand-rolled pipe: the same backpressure with fewer listeners per request (hot path).
    upRes.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      this.timer!.refresh();
      if (!res.write(chunk)) {
        upRes.pause();
        res.once('drain', () => upRes.resume());
      }
    });
    upRes.on('end', () => {
      if (this.done) return;
      res.end();
      this.releaseTarget();
    });
    upRes.on('aborted', () => this.fail('H18'));
    upRes.on('error', () => this.fail('H18'));
  }

  private onUpstreamError(up: ClientRequest, err: Error): void {
    if (up !== this.up || this.done) return;
    clearTimeout(this.connectTimer);
    const t = this.target!;
    this.releaseTarget();
    if (this.responded) {
      this.fail('H18');
      return;
    }
    if (!this.connected) {
      const code = (err as unknown as Record<symbol, unknown>)[CONNECT_TIMEOUT] ? 'H19' : 'H21';
      this.ctx.pool.quarantine(t, code, Date.now());
      this.lastCode = code;
      this.tried ??= new Set();
      this.tried.add(t.key);
      if (!this.bodyStarted && this.attempts < MAX_ATTEMPTS) {
        this.dispatch();
        return;
      }
      this.fail(code);
      return;
    }
    // A pooled connection the dyno closed as it was reused: most likely its keep-alive timeout,
    // so the request never reached the app. Retried only when repeating it is harmless.
    const reset = (err as NodeJS.ErrnoException).code === 'ECONNRESET' || err.message === 'socket hang up';
    const safe = SAFE_METHODS.has(this.req.method ?? '');
    if (up.reusedSocket && reset && safe && !this.bodyStarted && this.attempts < MAX_ATTEMPTS) {
      this.dispatch();
      return;
    }
    this.fail('H13');
  }

  private releaseTarget(): void {
    const t = this.target;
    if (t === undefined) return;
    this.target = undefined;
    this.ctx.pool.release(t, this.app!);
    this.lastDyno = t.dyno;
  }

  private lastDyno = '';

  /** Answer with an H-code (or just cut the connection when the response has started). */
  private fail(name: HCodeName, detail?: string, close = false): void {
    if (this.done) return;
    const info = H_CODES[name];
    this.code = info.code;
    this.desc = info.desc;
    this.finishUpstream();
    if (this.responded || this.res.headersSent) {
      this.done = true;
      this.res.destroy();
      return;
    }
    this.answer(info.status, info.code, info, detail, close);
  }

  private answer(
    status: number,
    code: string | undefined,
    info: { desc: string; page: string },
    detail?: string,
    close = false,
  ): void {
    const page = detail ? `${info.page} (${detail})` : info.page;
    const { contentType, body } = renderError(
      { code, status, desc: info.desc, page },
      this.requestId,
      this.req.headers.accept,
    );
    const headers: Record<string, string> = {
      'Content-Type': contentType,
      'Cache-Control': 'no-cache, no-store',
      'X-Request-Id': this.requestId,
    };
    if (close) headers.Connection = 'close';
    this.send(status, headers, body);
  }

  private send(status: number, headers: Record<string, string>, body: string): void {
    this.done = true;
    clearTimeout(this.timer);
    this.status = status;
    const buf = Buffer.from(body);
    this.bytes = buf.length;
    this.res.writeHead(status, { ...headers, 'Content-Length': String(buf.length), Via: VIA });
    this.res.end(buf);
  }

  private finishUpstream(): void {
    this.done = true;
    clearTimeout(this.timer);
    clearTimeout(this.connectTimer);
    if (this.queued) {
      this.queued = false;
      this.ctx.pool.dequeue(this.app!, this);
    }
    const up = this.up;
    if (up !== undefined && !up.destroyed) up.destroy();
    this.releaseTarget();
  }

  private onClientClose(): void {
    if (!this.res.writableFinished) {
      if (this.code === undefined) {
        this.code = 'H27';
        this.desc = H_CODES.H27.desc;
        if (!this.responded) this.status = H_CODES.H27.status;
      }
      this.finishUpstream();
    } else clearTimeout(this.timer);
    this.writeLog();
  }

  private writeLog(): void {
    const log = this.ctx.log;
    if (log === undefined || this.app === undefined) return;
    const now = Date.now();
    try {
      this.writeLine(log, this.app, now, now - this.start);
    } catch {
      // A failing log sink must not take requests down with it.
    }
  }

  private writeLine(log: LogSink, app: string, now: number, total: number): void {
    log.write({
      app,
      time: now,
      source: 'slipway',
      dyno: 'router',
      message: formatRequestLine({
        code: this.code,
        desc: this.desc,
        method: this.req.method ?? '',
        path: this.req.url ?? '',
        host: this.host,
        requestId: this.requestId,
        fwd: this.fwd,
        dyno: this.target?.dyno ?? this.lastDyno,
        connectMs: this.connectMs,
        serviceMs: Math.max(0, total - this.connectMs),
        status: this.status,
        bytes: this.bytes,
        protocol: this.protocol,
      }),
    });
  }
}
