import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { expect } from 'chai';
import {
  request,
  startBackend,
  startRouter,
  type TestRouter,
  TestTable,
  until,
} from './test-harness.test.js';

const HOST = 'app.example.test';

/**
 * A dyno that answers the first request of each connection and closes the connection, without
 * a response, when a second request arrives on it: what a dyno whose keep-alive timeout fires
 * just as the router reuses the connection looks like.
 */
async function startOneShotDyno(): Promise<{
  port: number;
  connections: () => number;
  close(): Promise<void>;
}> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    let served = 0;
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        if (served++ === 0)
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
        else socket.destroy();
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('router: a pooled connection closed by the dyno as it is reused', () => {
  let dyno: Awaited<ReturnType<typeof startOneShotDyno>>;
  let r: TestRouter;
  before(async () => {
    dyno = await startOneShotDyno();
    r = await startRouter(
      new TestTable().set('app', [{ dyno: 'web.1', host: '127.0.0.1', port: dyno.port }]),
    );
  });
  after(async () => {
    await r.router.close();
    await dyno.close();
  });

  it('retries a safe request on a fresh connection', async () => {
    expect((await request(r.port, { host: HOST })).body).to.equal('ok');
    expect((await request(r.port, { host: HOST })).body).to.equal('ok');
    expect(dyno.connections()).to.equal(2);
  });

  it('does not repeat an unsafe request: H13', async () => {
    expect((await request(r.port, { host: HOST })).status).to.equal(200);
    const before = dyno.connections();
    const reply = await request(r.port, { host: HOST, method: 'DELETE' });
    expect(reply.status).to.equal(503);
    expect(reply.body).to.contain('H13');
    expect(dyno.connections()).to.equal(before);
  });
});

describe('router: idle connections to a dyno', () => {
  it('keeps at most maxIdleSocketsPerDyno of them, and reuses them', async () => {
    let open = 0;
    let opened = 0;
    const backend = await startBackend((_req, res) => setTimeout(() => res.end('ok'), 100));
    backend.server.on('connection', (socket) => {
      open++;
      opened++;
      socket.on('close', () => open--);
    });
    const table = new TestTable().set('app', [backend.target('web.1')]);
    const r = await startRouter(table, { maxIdleSocketsPerDyno: 2 });
    try {
      const replies = await Promise.all(Array.from({ length: 5 }, () => request(r.port, { host: HOST })));
      expect(replies.map((x) => x.status)).to.deep.equal([200, 200, 200, 200, 200]);
      expect(opened, 'five requests at once: five connections').to.equal(5);
      await until(() => open === 2, 'the router closes the idle connections beyond 2');
      expect((await request(r.port, { host: HOST })).status).to.equal(200);
      expect(opened, 'the next request reuses an idle connection').to.equal(5);
    } finally {
      await r.router.close();
      await backend.close();
    }
  });
});
