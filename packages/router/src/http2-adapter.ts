/**
 * HTTP/2 requests through the one proxy path of `http-proxy.ts`. A request is presented in the
 * HTTP/1.1 form the dyno receives (requests to dynos stay HTTP/1.1): pseudo-headers become the
 * method, target and a Host taken from `:authority`, split Cookie fields are joined (RFC 9113
 * §8.2.3), and a body without Content-Length is said to be chunked, which is how HTTP/1.1 frames
 * a body of unknown length. Routing, the guard's limits, the forwarded headers, H-codes and the
 * log line are then those of HTTP/1.1. The response drops the headers that only mean something
 * on an HTTP/1.1 connection (RFC 9113 §8.2.2), which HTTP/2 must not carry.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { constants, Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { ClientRequest, ClientResponse } from './client-message.js';
import { handleRequest } from './http-proxy.js';
import type { RouterContext } from './routing.js';

/** Connection-specific headers: never sent on HTTP/2 (Node refuses them, clients treat them as malformed). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'http2-settings',
]);

/** An HTTP/2 request in its HTTP/1.1 form. */
class Http2Request implements ClientRequest {
  readonly method: string;
  readonly url: string;
  /** The guard checks the request as the dyno will get it (a chunked body is HTTP/1.1's). */
  readonly httpVersion = '1.1';
  readonly rawHeaders: string[];
  readonly headers: IncomingHttpHeaders;
  readonly socket: { readonly remoteAddress?: string | undefined; readonly localPort?: number | undefined };

  constructor(private readonly req: Http2ServerRequest) {
    this.method = req.method;
    this.url = req.url;
    // The session's TLS socket: the client's address, the port it reached.
    const { remoteAddress, localPort } = req.socket;
    this.socket = { remoteAddress, localPort };
    const raw = req.rawHeaders;
    const authority = req.headers[':authority'];
    const out: string[] = [];
    const headers: Record<string, string> = Object.create(null);
    // Both forms in one pass: the raw list the guard reads, the object routing reads.
    const put = (name: string, value: string): void => {
      out.push(name, value);
      const seen = headers[name];
      headers[name] = seen === undefined ? value : `${seen}, ${value}`;
    };
    // A Host that names another authority stays beside it: the guard refuses two Hosts (H25).
    if (authority !== undefined) put('host', authority);
    let cookie: string | undefined;
    let length = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      if (name.charCodeAt(0) === 58 /* : */) continue;
      if (name === 'cookie') cookie = cookie === undefined ? value : `${cookie}; ${value}`;
      else if (name === 'host' && authority !== undefined && value.toLowerCase() === authority.toLowerCase())
        continue;
      else {
        if (name === 'content-length') length = true;
        put(name, value);
      }
    }
    if (cookie !== undefined) put('cookie', cookie);
    // HEADERS without END_STREAM: a body follows. nghttp2 refuses a client's Transfer-Encoding,
    // so this one is only ever the router's.
    if (!length && !req.stream.endAfterHeaders) put('transfer-encoding', 'chunked');
    this.rawHeaders = out;
    this.headers = headers;
  }

  on(event: 'data', listener: (chunk: Buffer) => void): this {
    this.req.on(event, listener);
    return this;
  }

  pipe<T extends NodeJS.WritableStream>(destination: T): T {
    return this.req.pipe(destination);
  }
}

/** An HTTP/2 response written like an HTTP/1.1 one. */
class Http2Reply implements ClientResponse {
  constructor(private readonly res: Http2ServerResponse) {}

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  /**
   * Ended by the router and the stream closed without error. Not the stream's own
   * `writableFinished`: Node ends the writable side itself when the client resets the stream.
   */
  get writableFinished(): boolean {
    return this.res.writableEnded && this.res.stream.rstCode === constants.NGHTTP2_NO_ERROR;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders | string[]): void {
    // Names lower-cased (HTTP/2 has no others), repeated ones as one list (several fields).
    const out: Record<string, string | string[]> = Object.create(null);
    const add = (name: string, value: unknown): void => {
      const lower = name.toLowerCase();
      if (value === undefined || HOP_BY_HOP.has(lower)) return;
      const seen = out[lower];
      if (seen === undefined) out[lower] = String(value);
      else if (Array.isArray(seen)) seen.push(String(value));
      else out[lower] = [seen, String(value)];
    };
    if (Array.isArray(headers)) for (let i = 0; i < headers.length; i += 2) add(headers[i]!, headers[i + 1]);
    else
      for (const [name, value] of Object.entries(headers))
        if (Array.isArray(value)) for (const v of value) add(name, v);
        else add(name, value);
    try {
      this.res.writeHead(status, out);
    } catch (e) {
      // Refused (e.g. a repeated Content-Type, one value only in HTTP/2): the caller answers
      // instead, which must not inherit these headers.
      for (const name of this.res.getHeaderNames()) this.res.removeHeader(name);
      throw e;
    }
  }

  write(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  end(chunk?: Buffer): void {
    // Answered before the client finished its request (an H12 page while the body is still
    // coming, a dyno that answers without reading it): the stream would stay half-open for as
    // long as the client liked, with no 'close', so no log line and no idle close of the
    // session. End it once the answer is out, with NO_ERROR (RFC 9113 §8.1).
    const stream = this.res.stream;
    const done = () => {
      if (!stream.closed && !stream.readableEnded) stream.close(constants.NGHTTP2_NO_ERROR);
    };
    if (chunk === undefined) this.res.end(done);
    else this.res.end(chunk, done);
  }

  /** RST_STREAM: the client sees the response cut short, not a complete one. */
  destroy(): void {
    this.res.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }

  on(event: 'close', listener: () => void): this {
    this.res.on(event, listener);
    return this;
  }

  once(event: 'drain', listener: () => void): this {
    this.res.once(event, listener);
    return this;
  }
}

/**
 * Handle one request of the HTTPS listener, whose `request` event brings either protocol:
 * Node's HTTP/1.1 request as it is, an HTTP/2 stream's through the adapters.
 */
export function handleTlsRequest(
  ctx: RouterContext,
  req: Http2ServerRequest | IncomingMessage,
  res: Http2ServerResponse | ServerResponse,
): void {
  if (req instanceof Http2ServerRequest)
    handleRequest(ctx, new Http2Request(req), new Http2Reply(res as Http2ServerResponse), 'https');
  else handleRequest(ctx, req, res as ServerResponse, 'https');
}
