/**
 * `OPTIONS *` (a question to the server, not to a resource) goes out through Node's client:
 * undici refuses a request target that is not a path. It drives the same dispatch handler as
 * undici would, on a connection of its own.
 */
import http from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** Send `OPTIONS *` with `headers` to host:port; `handler` sees what an undici dispatch shows. */
export function dispatchStar(
  host: string,
  port: number,
  headers: string[],
  body: Readable | null,
  connectTimeout: number,
  handler: Required<
    Pick<Dispatcher.DispatchHandlers, 'onConnect' | 'onHeaders' | 'onData' | 'onComplete' | 'onError'>
  >,
): void {
  const up = http.request({
    host,
    port,
    method: 'OPTIONS',
    path: '*',
    headers: headers as unknown as http.OutgoingHttpHeaders,
    agent: false,
    setHost: false,
  });
  let failed = false;
  const fail = (err: Error): void => {
    if (failed) return;
    failed = true;
    handler.onError(err);
  };
  const timer = setTimeout(
    () => up.destroy(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })),
    connectTimeout,
  );
  up.on('socket', (socket) =>
    socket.once('connect', () => {
      clearTimeout(timer);
      handler.onConnect((err) => up.destroy(err ?? new Error('aborted')));
      if (body !== null) body.pipe(up);
      else up.end();
    }),
  );
  up.on('response', (res) => {
    const raw = res.rawHeaders.map((h) => Buffer.from(h, 'latin1'));
    if (!handler.onHeaders(res.statusCode ?? 502, raw, () => res.resume(), res.statusMessage ?? '')) return;
    res.on('data', (chunk: Buffer) => {
      if (handler.onData(chunk) === false) res.pause();
    });
    res.on('end', () => {
      if (!failed) handler.onComplete([]);
    });
    // Cut in the middle of the response (Node emits `aborted`, then `error` when listened to).
    res.on('aborted', () => fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
    res.on('error', fail);
  });
  up.on('error', (err) => {
    clearTimeout(timer);
    fail(err);
  });
}
