// Over 400 lines: one exchange is one state machine whose steps share the request's state.
/**
 * One proxied HTTP request (an "exchange"): route it, pick a dyno, stream the request and the
 * response without buffering, enforce the timeouts, retry on another dyno when a connection
 * is refused before anything was sent, and write one log line when the client side closes.
 */
import { PassThrough } from 'node:stream';
import type { HeaderEdits, LogSink, RouteDecision } from '@slipway/core';
import type { Client, Dispatcher } from 'undici';
import type { ClientRequest, ClientResponse } from './client-message.js';
import { downstreamResponseHeadersFromBuffers, upstreamRequestHeaders, VIA } from './forwarded-headers.js';
import { H_CODES, type HCodeName, NO_SUCH_APP, renderError } from './h-codes.js';
import { editRequestHeaders, editResponseHeaders } from './header-edits.js';
import { formatRequestLine } from './log-line.js';
import type { AppRoute } from './route-table.js';
import { type RouterContext, routeRequest } from './routing.js';
import { dispatchStar } from './star-request.js';
import type { BacklogWaiter, TargetState } from './target-pool.js';

/** Attempts per request (Heroku retries a refused connection up to 10 times). */
const MAX_ATTEMPTS = 10;

/** Methods a router may repeat after a reset of a reused connection (RFC 9110 safe methods). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Answers for app states that have no dyno to send to. */
const STATE_CODES: Record<Exclude<AppRoute['state'], 'ok'>, HCodeName> = {
  'no-release': 'H81',
  'no-web': 'H14',
  crashed: 'H10',
  booting: 'H20',
};

/** Handle one request of an HTTP or HTTPS listener (HTTP/2 through `http2-adapter.ts`). */
export function handleRequest(
  ctx: RouterContext,
  req: ClientRequest,
  res: ClientResponse,
  protocol: 'http' | 'https',
): void {
  new Exchange(ctx, req, res, protocol).run();
}

/** One request, and undici's handler of its upstream side (one attempt at a time). */
class Exchange implements BacklogWaiter, Dispatcher.DispatchHandlers {
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
  private headers: string[] | undefined;
  private body: PassThrough | null = null;
  private abortUp: ((err?: Error) => void) | undefined;
  private resumeUp: (() => void) | undefined;
  private attemptStart = 0;
  private reused = false;
  private client: Client | undefined;
  private attempts = 0;
  private tried: Set<string> | undefined;
  private lastCode: 'H19' | 'H21' | undefined;
  private connected = false;
  private bodyStarted = false;
  private responded = false;
  private done = false;
  private queued = false;
  private timer: NodeJS.Timeout | undefined;
  /** The decision's header edits, when a `route` tap made some. */
  private edits: HeaderEdits | undefined;
  private readonly hasBody: boolean;

  constructor(
    private readonly ctx: RouterContext,
    private readonly req: ClientRequest,
    private readonly res: ClientResponse,
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
    if (d.kind !== 'none') {
      this.app = d.app;
      if (d.requestHeaders !== undefined || d.responseHeaders !== undefined) this.edits = d;
    }
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
    this.attemptStart = now;
    this.connected = false;
    this.abortUp = undefined;
    const edits = this.edits?.requestHeaders;
    this.headers ??= upstreamRequestHeaders(
      edits ? editRequestHeaders(this.req.rawHeaders, edits) : this.req.rawHeaders,
      {
        requestId: this.requestId,
        forwardedFor: this.fwd,
        proto: this.protocol,
        port: this.req.socket.localPort ?? 0,
        start: this.start,
        upgrade: false,
        // undici frames a body itself; Node's client (for `OPTIONS *`) needs Transfer-Encoding said.
        clientFramesBody: this.req.url !== '*',
      },
    );
    // The body goes through a stream of this attempt's own, fed only once the dyno accepted the
    // connection: undici destroys a request's body stream when the request fails, and the
    // client's request must survive a refused connection so that another dyno can get it.
    this.body = this.hasBody ? new PassThrough() : null;
    if (this.req.url === '*') {
      this.reused = false;
      dispatchStar(t.host, t.port, this.headers, this.body, ctx.timeouts.connect, this);
      return;
    }
    this.reused = t.idle.length > 0;
    const client = ctx.pool.lease(t);
    this.client = client;
    const opts: Dispatcher.DispatchOptions = {
      path: this.req.url!,
      method: this.req.method as Dispatcher.HttpMethod,
      headers: this.headers,
      body: this.body,
    };
    // Without keep-alive: `Connection: close` and one connection per request. With it, undici's
    // own choices stay (e.g. it does not reuse a connection after a HEAD).
    if (!ctx.pool.keepAlive) opts.reset = true;
    client.dispatch(opts, this);
  }

  /** undici: the request is about to be written on a connected socket. */
  onConnect(abort: (err?: Error) => void): void {
    if (this.done) {
      abort();
      return;
    }
    this.abortUp = abort;
    this.connected = true;
    this.connectMs = this.reused ? 0 : Date.now() - this.attemptStart;
    if (this.body !== null && !this.bodyStarted) {
      this.bodyStarted = true;
      this.req.on('data', this.onActivity);
      this.req.pipe(this.body);
    }
  }

  private readonly onActivity = (): void => {
    if (this.responded) this.timer?.refresh();
  };

  /** undici: the response head. */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.done) return false;
    // 1xx before the final response: not relayed (as Node's client did). undici itself cuts the
    // connection on a `100 Continue` (never asked for: `Expect` is not forwarded), then H13.
    if (statusCode < 200) return true;
    clearTimeout(this.timer);
    try {
      const added = this.edits?.responseHeaders;
      const flat = downstreamResponseHeadersFromBuffers(rawHeaders);
      this.res.writeHead(statusCode, added ? editResponseHeaders(flat, added) : flat);
    } catch {
      // A response head Node refuses to relay (invalid header): the app broke HTTP.
      this.fail('H99');
      return false;
    }
    this.responded = true;
    this.status = statusCode;
    this.resumeUp = resume;
    this.timer = setTimeout(() => this.fail('H15'), this.ctx.timeouts.idle);
    return true;
  }

  /** undici: a chunk of the response body; false pauses the dyno until the client drained. */
  onData(chunk: Buffer): boolean {
    if (this.done) return false;
    this.bytes += chunk.length;
    this.timer!.refresh();
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  private readonly onDrain = (): void => {
    if (!this.done) this.resumeUp?.();
  };

  /** undici: the response ended. */
  onComplete(): void {
    if (this.done) return;
    this.res.end();
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) this.ctx.pool.giveBack(this.target!, client);
    this.releaseTarget();
  }

  /** undici: the request failed (connect, reset, protocol error, or our own abort). */
  onError(err: Error): void {
    this.dropClient();
    if (this.done) return;
    const t = this.target!;
    this.releaseTarget();
    if (this.responded) {
      this.fail('H18');
      return;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') {
      // A request undici refuses to send (e.g. a target it does not take): the router's fault.
      this.ctx.onError(err);
      this.fail('H99');
      return;
    }
    if (!this.connected) {
      const h = code === 'UND_ERR_CONNECT_TIMEOUT' ? 'H19' : 'H21';
      this.ctx.pool.quarantine(t, h, Date.now());
      this.lastCode = h;
      this.tried ??= new Set();
      this.tried.add(t.key);
      if (!this.bodyStarted && this.attempts < MAX_ATTEMPTS) {
        this.dispatch();
        return;
      }
      this.fail(h);
      return;
    }
    // A pooled connection the dyno closed as it was reused: most likely its keep-alive timeout,
    // so the request never reached the app. Retried only when repeating it is harmless.
    const reset = code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
    const safe = SAFE_METHODS.has(this.req.method ?? '');
    if (this.reused && reset && safe && !this.bodyStarted && this.attempts < MAX_ATTEMPTS) {
      this.dispatch();
      return;
    }
    this.fail('H13');
  }

  /** The connection of a failed or abandoned request is not reused. */
  private dropClient(): void {
    const client = this.client;
    if (client === undefined) return;
    this.client = undefined;
    client.destroy().catch(() => {});
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
    const all = { ...headers, 'Content-Length': String(buf.length), Via: VIA };
    const added = this.edits?.responseHeaders;
    this.res.writeHead(status, added ? editResponseHeaders(Object.entries(all).flat(), added) : all);
    this.res.end(buf);
  }

  private finishUpstream(): void {
    this.done = true;
    clearTimeout(this.timer);
    if (this.queued) {
      this.queued = false;
      this.ctx.pool.dequeue(this.app!, this);
    }
    // undici reports the abort through onError, which ignores it now that `done` is set.
    const abort = this.abortUp;
    this.abortUp = undefined;
    abort?.();
    this.dropClient();
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
