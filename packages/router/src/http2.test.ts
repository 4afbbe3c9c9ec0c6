// Over 400 lines: the cases share one router, its certificate and dynos, set up once per plane.
/**
 * HTTP/2 and HTTP/1.1 clients on the TLS listener of both data planes, with real clients (Node's
 * http2 and https, ws) and real dynos: what the dyno receives, what the client gets back, the
 * H-codes and log lines, route rules, ALPN on one port, idle sessions and draining.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type tls from 'node:tls';
import { Kernel } from '@slipway/core';
import { expect } from 'chai';
import { WebSocket, WebSocketServer } from 'ws';
import type { Router, RouterOptions } from './router.js';
import {
  type Backend,
  createTestRouter,
  describePlanes,
  echo,
  itOn,
  selfSigned,
  settle,
  startBackend,
  TestTable,
  until,
} from './test-harness.test.js';

const HOST = 'app.example.test';

/** A response read in full. */
interface H2Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

/** One HTTP/2 request on `session`, its body written in `chunks` (none: no body). */
function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  chunks: string[] = [],
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: chunks.length === 0 });
    let reply: Omit<H2Reply, 'body'> | undefined;
    const body: Buffer[] = [];
    req.on('response', (h) => {
      reply = { status: Number(h[':status']), headers: h };
    });
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => resolve({ ...reply!, body: Buffer.concat(body).toString() }));
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    if (chunks.length > 0) req.end();
  });
}

/** The dyno's answer with the headers an HTTP/1.1 server may send and HTTP/2 must not carry. */
const hopByHop: http.RequestListener = (_req, res) => {
  res.writeHead(200, [
    'Content-Type',
    'text/plain',
    'Set-Cookie',
    'a=1',
    'Set-Cookie',
    'b=2',
    'Upgrade',
    'h2c',
    'Connection',
    'Upgrade, keep-alive',
    'Keep-Alive',
    'timeout=5',
    'Proxy-Connection',
    'keep-alive',
    // Node's HTTP/2 refuses to send this one (it would be H99): the answer must still arrive.
    'HTTP2-Settings',
    'AAMAAABkAAQAAP__',
  ]);
  // No length: the body goes chunked (Transfer-Encoding) to the router.
  res.write('one,');
  res.end('two');
};

describePlanes('router: HTTP/2 and HTTP/1.1 on the TLS listener (real clients)', (plane) => {
  let dir: string;
  let dyno: Backend;
  let wsServer: http.Server;
  let router: Router;
  let port: number;
  let ca: Buffer;
  let tlsOptions: RouterOptions['tls'];
  const table = new TestTable();
  const lines: string[] = [];
  const sessions: http2.ClientHttp2Session[] = [];

  const connect = async (p = port): Promise<http2.ClientHttp2Session> => {
    await settle();
    const s = http2.connect(`https://127.0.0.1:${p}`, { servername: HOST, ca });
    s.on('error', () => {});
    sessions.push(s);
    return s;
  };
  const line = async (re: RegExp): Promise<string> => {
    await until(() => lines.some((l) => re.test(l)), `a log line matching ${re}`);
    return lines.find((l) => re.test(l))!;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-router-h2-'));
    const platform = await selfSigned(dir, 'platform', ['*.example.test']);
    ca = readFileSync(platform.cert);
    tlsOptions = { certificates: [{ ...platform, domains: ['*.example.test'] }] };
    dyno = await startBackend((req, res) => (req.url === '/hop' ? hopByHop : echo)(req, res));
    wsServer = http.createServer((_req, res) => res.end('plain'));
    const wss = new WebSocketServer({ server: wsServer });
    wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
    await new Promise<void>((r) => wsServer.listen(0, '127.0.0.1', r));
    const wsPort = (wsServer.address() as AddressInfo).port;
    table.set('app', [dyno.target('web.1')]).set('ws', [{ dyno: 'web.1', host: '127.0.0.1', port: wsPort }]);
    router = createTestRouter(plane, {
      table,
      baseDomain: 'example.test',
      log: { write: (l) => lines.push(l.message) },
      tls: tlsOptions,
    });
    port = (await router.listenTls(0)).port;
  });
  afterEach(() => {
    for (const s of sessions.splice(0)) s.close();
  });
  after(async () => {
    await router?.close();
    await dyno?.close();
    wsServer?.closeAllConnections();
    await new Promise((r) => wsServer?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('h2 requests with a body reach the dyno intact (unknown length and Content-Length), with the router headers', async () => {
    // Larger than HTTP/2's initial flow-control windows (64 KiB), so the upload waits on them.
    const big = randomBytes(150_000).toString('base64');
    const s = await connect();
    const chunked = await h2Request(
      s,
      { ':method': 'POST', ':path': '/upload?n=1', ':authority': HOST, cookie: ['a=1', 'b=2'] },
      [big.slice(0, 1000), big.slice(1000, 90_000), big.slice(90_000)],
    );
    expect(chunked.status).to.equal(200);
    const seen = JSON.parse(chunked.body);
    expect(seen).to.include({ method: 'POST', url: '/upload?n=1' });
    expect(seen.body.length).to.equal(big.length);
    expect(seen.body === big, 'the body as sent').to.equal(true);
    expect(seen.headers).to.include({
      host: HOST,
      cookie: 'a=1; b=2',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': String(port),
      'x-forwarded-for': '127.0.0.1',
      via: '1.1 slipway',
    });
    expect(seen.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    expect(seen.headers['x-request-start']).to.match(/^\d{13}$/);
    expect(Object.keys(seen.headers).filter((n) => n.startsWith(':'))).to.deep.equal([]);
    expect(await line(/path="\/upload\?n=1"/)).to.match(
      /^at=info method=POST path="\/upload\?n=1" host=app\.example\.test .*dyno=web\.1 .*status=200 .*protocol=https$/,
    );

    const sized = await h2Request(
      s,
      { ':method': 'PUT', ':path': '/upload?n=2', ':authority': HOST, 'content-length': big.length },
      [big],
    );
    const put = JSON.parse(sized.body);
    expect(put.method).to.equal('PUT');
    expect(put.headers['content-length']).to.equal(String(big.length));
    expect(put.body === big, 'the body as sent').to.equal(true);
  });

  it('responses to h2 clients carry no HTTP/1.1 connection headers; repeated Set-Cookie and a chunked body pass', async () => {
    // An HTTP/2 client refuses a response with connection headers (a malformed message).
    const reply = await h2Request(await connect(), { ':path': '/hop', ':authority': HOST });
    expect(reply).to.include({ status: 200, body: 'one,two' });
    for (const name of ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'])
      expect(reply.headers, name).not.to.have.property(name);
    expect(reply.headers['set-cookie']).to.deep.equal(['a=1', 'b=2']);
    expect(reply.headers.via).to.equal('1.1 slipway');
  });

  it('answers h2 clients with the H-code pages and log lines (no such app, H18, H25 header limit, Host beside :authority)', async () => {
    const breaks = await startBackend((req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial', () => setTimeout(() => req.socket.destroy(), 20));
    });
    table.set('breaks', [breaks.target('web.1')]);
    try {
      const s = await connect();
      const none = await h2Request(s, { ':path': '/', ':authority': 'nope.example.test' });
      expect(none.status).to.equal(404);
      // Cut in the middle of the response: the stream is reset, never ended as if complete.
      const cut = await h2Request(s, {
        ':path': '/h18',
        ':authority': 'breaks.example.test',
      }).then(
        (r) => r,
        (e: Error) => e,
      );
      expect(cut, 'a reset stream').to.be.instanceOf(Error);
      expect(await line(/path="\/h18"/)).to.match(/^at=error code=H18 .*status=200 /);
      // A Host beside `:authority` naming another host (RFC 9113 §8.3.1: malformed) never reaches
      // a dyno: the Node router refuses it (two Hosts, H25), HAProxy routes by `:authority` and
      // sends that as Host. The same Host twice is one.
      const spoof = await h2Request(s, {
        ':path': '/spoof',
        ':authority': HOST,
        host: 'other.example.test',
      });
      if (plane === 'node') expect(spoof.status).to.equal(400);
      expect(dyno.seen.filter((x) => x.url === '/spoof').map((x) => x.headers.host)).to.deep.equal(
        plane === 'node' ? [] : [HOST],
      );
      const same = await h2Request(s, { ':path': '/same', ':authority': HOST, host: HOST });
      expect(same.status).to.equal(200);
      expect(dyno.seen.filter((x) => x.url === '/same').map((x) => x.headers.host)).to.deep.equal([HOST]);
      // The limit counts Host, which `:authority` stands for: 999 more headers pass, 1000 do not.
      const limit = Array.from({ length: 1000 }, (_, i) => [`x-h${i}`, 'v']);
      const fine = await h2Request(s, {
        ':path': '/fine',
        ':authority': HOST,
        ...Object.fromEntries(limit.slice(0, 999)),
      });
      expect(fine.status).to.equal(200);
      const many = await h2Request(s, {
        ':path': '/many',
        ':authority': HOST,
        ...Object.fromEntries(limit),
      });
      expect(many.status).to.equal(400);
      expect(many.body).to.contain('H25');
      expect(await line(/path="\/many"/)).to.match(/^at=error code=H25 .*status=400 .*protocol=https$/);
    } finally {
      table.apps.delete('breaks');
      await breaks.close();
    }
  });

  itOn(
    plane,
    ['node'],
    'HAProxy 2.6 resets such an h2 stream with REFUSED_STREAM and writes no log line for it',
  )('H13 to an h2 client: the page and the log line', async () => {
    const hangsUp = await startBackend((req) => req.socket.destroy());
    table.set('hangup', [hangsUp.target('web.1')]);
    try {
      const s = await connect();
      const closed = await h2Request(s, { ':path': '/h13', ':authority': 'hangup.example.test' });
      expect(closed.status).to.equal(503);
      expect(closed.body).to.contain('H13');
      expect(await line(/path="\/h13"/)).to.match(/^at=error code=H13 .*dyno=web\.1 .*status=503 /);
    } finally {
      table.apps.delete('hangup');
      await hangsUp.close();
    }
  });

  it('applies route rules to h2 requests: a cookie canary (split Cookie fields), header edits both ways', async () => {
    const canary = await startBackend();
    const kernel = new Kernel();
    await kernel.use({
      name: 'test-rules',
      register(reg) {
        reg.hooks.routeRules.tap('test-rules', (list, ctx) => {
          if (ctx.app === 'app')
            list.push(
              { match: { cookie: { name: 'canary', value: '1' } }, action: { kind: 'app', app: 'canary' } },
              {
                action: {
                  kind: 'edit',
                  requestHeaders: { set: { 'X-Plan': 'gold' } },
                  responseHeaders: { 'X-Frame-Options': 'DENY' },
                },
              },
            );
          return list;
        });
      },
    });
    const ruled = createTestRouter(plane, {
      table: new TestTable().set('app', [dyno.target('web.1')]).set('canary', [canary.target('web.1')]),
      baseDomain: 'example.test',
      kernel,
      tls: tlsOptions,
    });
    try {
      const s = await connect((await ruled.listenTls(0)).port);
      const plain = await h2Request(s, {
        ':path': '/ruled',
        ':authority': HOST,
        cookie: ['a=b', 'canary=2'],
      });
      expect(plain.headers['x-frame-options']).to.equal('DENY');
      expect(JSON.parse(plain.body).headers['x-plan']).to.equal('gold');
      expect(canary.seen).to.have.length(0);
      const toCanary = await h2Request(s, {
        ':path': '/ruled',
        ':authority': HOST,
        cookie: ['a=b', 'canary=1'],
      });
      expect(toCanary.status).to.equal(200);
      expect(canary.seen.map((r) => r.url)).to.deep.equal(['/ruled']);
    } finally {
      await ruled.close();
      await canary.close();
    }
  });

  it('serves h2 and HTTP/1.1 clients on the same port by ALPN; WebSockets over TLS still work', async () => {
    const s = await connect();
    const viaH2 = await h2Request(s, { ':path': '/alpn/h2', ':authority': HOST });
    expect(viaH2.status).to.equal(200);
    expect(s.alpnProtocol).to.equal('h2');
    // HTTP/1.1 asked for by ALPN, and a client that offers no ALPN at all.
    for (const [alpn, path] of [
      [['http/1.1'], '/alpn/http1'],
      [undefined, '/alpn/none'],
    ] as const) {
      const reply = await new Promise<{ status: number; version: string; alpn: string | false | null }>(
        (resolve, reject) => {
          const req = https.request(
            {
              host: '127.0.0.1',
              port,
              path,
              servername: HOST,
              headers: { host: HOST },
              ca,
              agent: false,
              ...(alpn ? { ALPNProtocols: [...alpn] } : {}),
            },
            (res) => {
              res.resume();
              const alpnProtocol = (res.socket as tls.TLSSocket).alpnProtocol;
              res.on('end', () =>
                resolve({ status: res.statusCode!, version: res.httpVersion, alpn: alpnProtocol }),
              );
            },
          );
          req.on('error', reject);
          req.end();
        },
      );
      expect(reply).to.deep.equal({ status: 200, version: '1.1', alpn: alpn ? 'http/1.1' : false });
    }
    for (const p of ['/alpn/h2', '/alpn/http1', '/alpn/none'])
      await line(new RegExp(`path="${p}".* protocol=https$`));

    await settle();
    // ws passes `servername` on to tls.connect (its types leave it out).
    const wsOptions = { headers: { host: 'ws.example.test' }, servername: 'ws.example.test', ca };
    const ws = new WebSocket(`wss://127.0.0.1:${port}/socket`, wsOptions as WebSocket.ClientOptions);
    try {
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const echoed = new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
      ws.send('over tls');
      expect(await echoed).to.equal('over tls');
    } finally {
      ws.terminate();
    }
  });

  it("HTTP/1.1 on the TLS port keeps the plain listener's limits: a 35 KB head passes (Node's default is 16 KB), 1001 headers do not", async () => {
    // A dyno that takes large heads too.
    const roomy = http.createServer({ maxHeaderSize: 65_536 }, echo);
    await new Promise<void>((r) => roomy.listen(0, '127.0.0.1', r));
    table.set('roomy', [{ dyno: 'web.1', host: '127.0.0.1', port: (roomy.address() as AddressInfo).port }]);
    const get = async (headers: Record<string, string>): Promise<number> => {
      await settle();
      return new Promise((resolve, reject) => {
        const host = 'roomy.example.test';
        const req = https.request(
          { host: '127.0.0.1', port, servername: host, headers: { ...headers, host }, ca, agent: false },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          },
        );
        req.on('error', reject);
        req.end();
      });
    };
    try {
      const large = Object.fromEntries(
        Array.from({ length: 5 }, (_, i) => [`x-large-${i}`, 'v'.repeat(7000)]),
      );
      expect(await get(large)).to.equal(200);
      const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`x-h${i}`, 'v']));
      expect(await get(many)).to.equal(400);
    } finally {
      table.apps.delete('roomy');
      roomy.closeAllConnections();
      await new Promise((r) => roomy.close(r));
    }
  });

  it('closes an idle h2 session after the keep-alive timeout', async () => {
    const idle = createTestRouter(plane, {
      table,
      baseDomain: 'example.test',
      tls: tlsOptions,
      timeouts: { keepAlive: 300 },
    });
    try {
      const s = await connect((await idle.listenTls(0)).port);
      let closed = false;
      s.once('close', () => {
        closed = true;
      });
      expect((await h2Request(s, { ':path': '/idle', ':authority': HOST })).status).to.equal(200);
      await until(() => closed, 'the idle session closed by the router', 5000);
    } finally {
      await idle.close();
    }
  });

  it('ends an h2 stream answered before its request finished: the H12 line is written and the idle session closes', async () => {
    // A POST whose body never ends: the dyno waits for it, the router answers H12. The stream
    // must not stay half-open for the client to keep (no log line, no idle close of the session).
    const seen: string[] = [];
    const stalled = createTestRouter(plane, {
      table,
      baseDomain: 'example.test',
      tls: tlsOptions,
      log: { write: (l) => seen.push(l.message) },
      timeouts: { keepAlive: 300, firstByte: 300 },
    });
    try {
      const s = await connect((await stalled.listenTls(0)).port);
      let closed = false;
      s.once('close', () => {
        closed = true;
      });
      const req = s.request(
        { ':method': 'POST', ':path': '/stalled', ':authority': HOST },
        { endStream: false },
      );
      req.on('error', () => {});
      let status = 0;
      req.on('response', (h) => {
        status = Number(h[':status']);
      });
      req.resume();
      await until(() => seen.some((l) => l.includes('path="/stalled"')), 'the H12 log line', 5000);
      await until(() => status !== 0, 'the answer at the client', 5000);
      expect(status).to.equal(503);
      expect(seen.find((l) => l.includes('path="/stalled"'))).to.match(/^at=error code=H12 /);
      await until(() => closed, 'the idle session closed by the router', 5000);
    } finally {
      await stalled.close();
    }
  });

  it('close(grace): an h2 client gets GOAWAY and its request under way still gets its answer', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const slow = await startBackend((_req, res) => {
      void held.then(() => res.end('late'));
    });
    const draining = createTestRouter(plane, {
      table: new TestTable().set('app', [slow.target('web.1')]),
      baseDomain: 'example.test',
      tls: tlsOptions,
    });
    try {
      const s = await connect((await draining.listenTls(0)).port);
      let goaway = false;
      s.once('goaway', () => {
        goaway = true;
      });
      const reply = h2Request(s, { ':path': '/slow', ':authority': HOST });
      await until(() => slow.seen.length === 1, 'the request at the dyno');
      const closing = draining.close(10_000);
      await until(() => goaway, 'GOAWAY');
      release();
      expect(await reply).to.include({ status: 200, body: 'late' });
      await closing;
    } finally {
      release();
      await draining.close();
      await slow.close();
    }
  });
});
