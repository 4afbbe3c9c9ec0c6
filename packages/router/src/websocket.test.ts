import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kernel, withHeaderEdits } from '@slipway/core';
import { expect } from 'chai';
import { WebSocket, WebSocketServer } from 'ws';
import {
  closedPort,
  describePlanes,
  settle,
  sleep,
  startBackend,
  startRouter,
  type TestRouter,
  TestTable,
} from './test-harness.test.js';

const HOST = 'app.example.test';

interface WsBackend {
  port: number;
  upgrades: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** A real WebSocket echo server; `reject` refuses every handshake with 401. */
async function startWsBackend(reject = false): Promise<WsBackend> {
  const server = http.createServer((_req, res) => res.end('plain'));
  const upgrades: http.IncomingHttpHeaders[] = [];
  const wss = new WebSocketServer({
    server,
    verifyClient: (info: { req: http.IncomingMessage }) => {
      upgrades.push(info.req.headers);
      return !reject;
    },
  });
  wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    upgrades,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function connect(port: number, host = HOST): Promise<WebSocket> {
  await settle();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket?x=1`, { headers: { host } });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })),
      );
    });
    ws.once('error', reject);
  });
}

const next = (ws: WebSocket): Promise<Buffer> =>
  new Promise((resolve) => ws.once('message', (d: Buffer) => resolve(d)));

describePlanes('router: WebSockets (real ws client and server)', (plane) => {
  let echo: WsBackend;
  let refusing: WsBackend;
  let r: TestRouter;
  const table = new TestTable();
  before(async () => {
    echo = await startWsBackend();
    refusing = await startWsBackend(true);
    table.set('app', [{ dyno: 'web.1', host: '127.0.0.1', port: echo.port }]);
    table.set('nope', [{ dyno: 'web.1', host: '127.0.0.1', port: refusing.port }]);
    table.set('down', [], 'crashed');
    r = await startRouter(table, { timeouts: { idle: 400 } }, plane);
  });
  after(async () => {
    await r.router.close();
    await echo.close();
    await refusing.close();
  });

  it('passes the upgrade through with the forwarded headers and echoes text and binary frames', async () => {
    const ws = await connect(r.port);
    try {
      const h = echo.upgrades.at(-1)!;
      expect(h['x-forwarded-for']).to.equal('127.0.0.1');
      expect(h['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
      expect(h.via).to.equal('1.1 slipway');
      ws.send('hello');
      expect((await next(ws)).toString()).to.equal('hello');
      // 4 MB each way, streamed rather than collected.
      const big = Buffer.alloc(4 * 1024 * 1024, 7);
      ws.send(big);
      expect((await next(ws)).equals(big)).to.equal(true);
      expect(await r.line(/path="\/socket\?x=1".*status=101 /)).to.match(
        /^at=info method=GET .*dyno=web\.1 /,
      );
    } finally {
      ws.close();
    }
  });

  it('closes a tunnel idle for the idle window, and keeps a busy one open', async () => {
    // The idle window starts at the idle tunnel's handshake: measure from before it.
    const t0 = Date.now();
    const idle = await connect(r.port);
    const closed = new Promise<number>((resolve) => idle.once('close', () => resolve(Date.now())));
    const busy = await connect(r.port);
    for (let i = 0; i < 6; i++) {
      busy.send(`ping ${i}`);
      expect((await next(busy)).toString()).to.equal(`ping ${i}`);
      await sleep(80);
    }
    expect((await closed) - t0).to.be.within(350, 2500);
    expect(busy.readyState).to.equal(WebSocket.OPEN);
    busy.close();
  });

  it('retries a refused handshake connection on another dyno, and answers H12 for a silent one', async () => {
    const dead = await closedPort();
    table.set('retry', [
      { dyno: 'web.1', host: '127.0.0.1', port: dead },
      { dyno: 'web.2', host: '127.0.0.1', port: echo.port },
    ]);
    for (let i = 0; i < 4; i++) {
      const ws = await connect(r.port, 'retry.example.test');
      ws.send(`try ${i}`);
      expect((await next(ws)).toString()).to.equal(`try ${i}`);
      ws.close();
    }
    const silent = await startBackend(() => {});
    try {
      table.set('silent', [silent.target('web.1')]);
      const fast = await startRouter(table, { timeouts: { firstByte: 200 } }, plane);
      try {
        const timedOut = await connect(fast.port, 'silent.example.test').catch((e) => e);
        expect(timedOut.status).to.equal(503);
        expect(timedOut.body).to.contain('H12');
        expect(await fast.line(/code=H12/)).to.contain('path="/socket?x=1"');
      } finally {
        await fast.router.close();
      }
    } finally {
      await silent.close();
    }
  });

  it('relays an app that refuses the handshake, and answers H-codes and 404 as HTTP', async () => {
    const refused = await connect(r.port, 'nope.example.test').catch((e) => e);
    expect(refused.status).to.equal(401);
    const crashed = await connect(r.port, 'down.example.test').catch((e) => e);
    expect(crashed.status).to.equal(503);
    expect(crashed.body).to.contain('H10');
    const unknown = await connect(r.port, 'evilapp.example.test').catch((e) => e);
    expect(unknown.status).to.equal(404);
  });

  it("applies a route tap's request-header edits to the handshake", async () => {
    const kernel = new Kernel();
    kernel.hooks.route.tap('ws-auth', (d) =>
      withHeaderEdits(d, { requestHeaders: { set: { 'X-Auth-User': 'alice' }, remove: ['cookie'] } }),
    );
    const edited = await startRouter(table, { kernel });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${edited.port}/socket`, {
        headers: { host: HOST, cookie: 'a=b' },
      });
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      ws.close();
      const seen = echo.upgrades.at(-1)!;
      expect(seen['x-auth-user']).to.equal('alice');
      expect(seen.cookie).to.equal(undefined);
      expect(seen.upgrade).to.equal('websocket');
    } finally {
      await edited.router.close();
    }
  });

  it('a code rule takes the handshake through the route tap, on this data plane', async () => {
    const kernel = new Kernel();
    kernel.hooks.routeRules.tap('ws-code', (rules) => [...rules, { action: { kind: 'code' } }]);
    kernel.hooks.route.tap('ws-code', (d, req) =>
      withHeaderEdits(d, { requestHeaders: { set: { 'X-Peer': `${req.remoteAddress} ${req.protocol}` } } }),
    );
    const coded = await startRouter(table, { kernel }, plane);
    try {
      const ws = await connect(coded.port);
      const echoed = new Promise((resolve) => ws.once('message', (m) => resolve(String(m))));
      ws.send('through code');
      expect(await echoed).to.equal('through code');
      ws.close();
      const seen = echo.upgrades.at(-1)!;
      expect(seen['x-peer']).to.equal('127.0.0.1 http');
      expect(seen['x-forwarded-for']).to.equal('127.0.0.1');
      expect(seen.via).to.equal('1.1 slipway');
    } finally {
      await coded.router.close();
    }
  });
});
