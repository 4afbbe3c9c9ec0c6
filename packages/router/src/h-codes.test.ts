// Over 400 lines: one H-code per case, each run against both data planes from the same vectors.
import http from 'node:http';
import { Kernel } from '@slipway/core';
import { expect } from 'chai';
import { maintenancePlugin } from './maintenance-plugin.js';
import {
  type Backend,
  closedPort,
  describePlanes,
  itOn,
  request,
  settle,
  sleep,
  startBackend,
  startRouter,
  type TestRouter,
  TestTable,
  until,
} from './test-harness.test.js';

const HOST = 'app.example.test';
const FAST = { firstByte: 200, idle: 300, connect: 150, quarantine: 400 };

/** GET that resolves with how the response ended: complete, or cut after the head. */
async function getCut(port: number): Promise<{ status: number; body: string; cut: boolean }> {
  await settle();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/', headers: { host: HOST }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body, cut: false }));
        res.on('error', () => resolve({ status: res.statusCode!, body, cut: true }));
        res.on('aborted', () => resolve({ status: res.statusCode!, body, cut: true }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describePlanes('router: Heroku error codes (real HTTP)', (plane) => {
  const table = new TestTable();
  let r: TestRouter;
  const backends: Backend[] = [];
  const backend = async (h?: http.RequestListener): Promise<Backend> => {
    const b = await startBackend(h);
    backends.push(b);
    return b;
  };
  before(async () => {
    r = await startRouter(table, { timeouts: FAST }, plane);
  });
  after(async () => {
    await r.router.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  const expectCode = async (code: string, status = 503, opts: { accept?: string } = {}): Promise<string> => {
    const reply = await request(r.port, { host: HOST, headers: opts.accept ? { accept: opts.accept } : {} });
    expect(reply.status, code).to.equal(status);
    expect(reply.body).to.contain(code);
    expect(reply.headers['cache-control']).to.equal('no-cache, no-store');
    return r.line(new RegExp(`code=${code} .*request_id=${reply.headers['x-request-id']}`));
  };

  it('H10 app crashed, H14 no web dynos, H81 nothing deployed, H20 booting', async () => {
    table.set('app', [], 'crashed');
    expect(await expectCode('H10')).to.match(
      /^at=error code=H10 desc="App crashed" method=GET path="\/" host=app\.example\.test /,
    );
    table.set('app', [], 'no-web');
    expect(await expectCode('H14')).to.contain('desc="No web processes running"');
    table.set('app', [], 'ok');
    await expectCode('H14');
    table.set('app', [], 'no-release');
    expect(await expectCode('H81')).to.contain('status=503');
    table.set('app', [], 'booting');
    await expectCode('H20');
  });

  it('renders JSON instead of the HTML page when the client asks', async () => {
    table.set('app', [], 'crashed');
    const reply = await request(r.port, { host: HOST, headers: { accept: 'application/json' } });
    expect(reply.headers['content-type']).to.match(/^application\/json/);
    expect(JSON.parse(reply.body)).to.include({ id: 'h10', code: 'H10', message: 'App crashed' });
    const html = await request(r.port, {
      host: HOST,
      headers: { accept: 'text/html,application/json;q=0.9' },
    });
    expect(html.headers['content-type']).to.match(/^text\/html/);
  });

  it('H12 when the dyno sends nothing within the first-byte timeout', async () => {
    const silent = await backend(() => {});
    table.set('app', [silent.target('web.1')]);
    const t0 = Date.now();
    const line = await expectCode('H12');
    expect(Date.now() - t0).to.be.within(FAST.firstByte - 20, FAST.firstByte + 2000);
    expect(line).to.match(/desc="Request timeout" .* dyno=web\.1 .* status=503 /);
  });

  it('H15 when a started response goes idle; the client connection is cut', async () => {
    const stalls = await backend((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first');
    });
    table.set('app', [stalls.target('web.1')]);
    const reply = await getCut(r.port);
    expect(reply).to.include({ status: 200, body: 'first', cut: true });
    // HAProxy counts the response head in `bytes` too.
    expect(await r.line(/code=H15 desc="Idle connection"/)).to.match(
      plane === 'node' ? /status=200 bytes=5 / : /status=200 bytes=\d+ /,
    );
  });

  it('keeps a slow but steady response alive past the idle window', async () => {
    const steady = await backend((_req, res) => {
      let n = 0;
      const t = setInterval(() => {
        res.write(`${n}`);
        if (++n === 6) {
          clearInterval(t);
          res.end();
        }
      }, FAST.idle / 4);
    });
    table.set('app', [steady.target('web.1')]);
    const reply = await getCut(r.port);
    expect(reply).to.include({ status: 200, body: '012345', cut: false });
    // The earlier tests' lines are all errors: this is the steady response's, and it is no H15.
    expect(await r.line(/^at=info /)).to.match(/ status=200 /);
  });

  it('H13 when the dyno closes the connection without a response', async () => {
    const closes = await backend((req) => req.socket.destroy());
    table.set('app', [closes.target('web.1')]);
    expect(await expectCode('H13')).to.contain('desc="Connection closed without response"');
  });

  it('H18 when the dyno closes the connection in the middle of a response', async () => {
    const breaks = await backend((req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial', () => setTimeout(() => req.socket.destroy(), 20));
    });
    table.set('app', [breaks.target('web.1')]);
    const reply = await getCut(r.port);
    expect(reply).to.include({ status: 200, cut: true });
    expect(await r.line(/code=H18/)).to.contain('desc="Server Request Interrupted"');
  });

  it('H21 when the only dyno refuses; the dyno is then quarantined, then tried again', async () => {
    const port = await closedPort();
    table.set('app', [{ dyno: 'web.1', host: '127.0.0.1', port }]);
    expect(await expectCode('H21')).to.contain('desc="Backend connection refused"');
    // Something now listens there, but the dyno is quarantined: no connection is even tried.
    const revived = http.createServer((_q, s) => s.end('back'));
    await new Promise<void>((res) => revived.listen(port, '127.0.0.1', res));
    try {
      let hits = 0;
      revived.on('request', () => hits++);
      expect((await request(r.port, { host: HOST })).status).to.equal(503);
      expect(hits).to.equal(0);
      await sleep(FAST.quarantine + 50);
      const after = await request(r.port, { host: HOST });
      expect(after.status).to.equal(200);
      expect(after.body).to.equal('back');
    } finally {
      revived.closeAllConnections();
      await new Promise((res) => revived.close(res));
    }
  });

  it('retries a refused connection on another dyno, with the request body intact', async () => {
    const live = await backend();
    const dead = await closedPort();
    table.set('app', [{ dyno: 'web.1', host: '127.0.0.1', port: dead }, live.target('web.2')]);
    for (let i = 0; i < 8; i++) {
      const reply = await request(r.port, { host: HOST, method: 'POST', body: `body-${i}` });
      expect(reply.status).to.equal(200);
      expect(JSON.parse(reply.body).body).to.equal(`body-${i}`);
    }
    const lines = r.lines.filter((l) => l.message.includes('method=POST'));
    expect(lines.every((l) => l.message.includes('dyno=web.2 '))).to.equal(true);
  });

  it('H11 when every dyno is at its in-flight cap and the backlog is full; the backlog drains', async () => {
    const held: http.ServerResponse[] = [];
    const slow = await backend((_req, res) => held.push(res));
    table.set('busy', [slow.target('web.1')]);
    const capped = await startRouter(
      table,
      { timeouts: { firstByte: 5000 }, limits: { inFlightPerDyno: 1, backlogPerDyno: 1 } },
      plane,
    );
    try {
      const first = request(capped.port, { host: 'busy.example.test' });
      await until(() => held.length === 1, 'the first request at the dyno');
      const second = request(capped.port, { host: 'busy.example.test' });
      await until(() => capped.router.backlog('busy') === 1, 'the second request in the backlog');
      const third = await request(capped.port, { host: 'busy.example.test' });
      expect(third.status).to.equal(503);
      expect(third.body).to.contain('H11');
      expect(await capped.line(/code=H11 desc="Backlog too deep"/)).to.contain('status=503');
      expect(held.length).to.equal(1);
      held[0]!.end('one');
      expect((await first).body).to.equal('one');
      await until(() => held.length === 2, 'the queued request at the dyno');
      held[1]!.end('two');
      expect((await second).body).to.equal('two');
    } finally {
      await capped.router.close();
    }
  });

  it('H12 when a request waits in the backlog past the first-byte timeout', async () => {
    // The dyno starts its answer at once (no H12 for it) and keeps it streaming (no H15): its
    // slot stays taken.
    const held: http.ServerResponse[] = [];
    const slow = await backend((_req, res) => {
      held.push(res);
      res.writeHead(200).write('started');
      const tick = setInterval(() => (res.writableEnded ? clearInterval(tick) : res.write('.')), 100);
    });
    table.set('queued', [slow.target('web.1')]);
    const capped = await startRouter(
      table,
      { timeouts: { firstByte: 400 }, limits: { inFlightPerDyno: 1, backlogPerDyno: 5 } },
      plane,
    );
    try {
      const first = request(capped.port, { host: 'queued.example.test', path: '/first' });
      await until(() => held.length === 1, 'the first request at the dyno');
      await sleep(50);
      const second = await request(capped.port, { host: 'queued.example.test', path: '/second' });
      expect(second.status).to.equal(503);
      expect(await capped.line(/path="\/second"/)).to.match(/^at=error code=H12 .*status=503 /);
      expect(held.length).to.equal(1);
      held[0]!.end();
      expect((await first).body).to.match(/^started\.*$/);
    } finally {
      for (const res of held) res.end();
      await capped.router.close();
    }
  });

  // A client that goes away resets its connection (or its FIN is followed by a reset when the
  // answer reaches it). A bare FIN after a complete request is a half-close and still gets its
  // answer (proxy-behaviour.test.ts), as HAProxy does by default: the router cannot tell the two
  // apart at the FIN, and a dyno that never answers is ended by H12 either way. HAProxy 3.0,
  // 3.2 and 3.4 (Debian trixie, forky, experimental) behave as 2.6 here.
  itOn(
    plane,
    ['node'],
    'over HTTP/1.1 HAProxy (2.6 to 3.4) cannot tell a reset from a half-close: `option abortonclose` ' +
      'aborts both (a half-closed client gets a 400, failing the half-close test), without it a reset ' +
      "is noticed when the dyno's answer is written (H27 then) and a silent dyno gives H12 (an HTTP/2 " +
      'cancel is H27: tls.test.ts)',
  )('H27 in the log when the client goes away before the response', async () => {
    const silent = await backend(() => {});
    table.set('app', [silent.target('web.1')]);
    await settle();
    const req = http.request({ host: '127.0.0.1', port: r.port, headers: { host: HOST }, agent: false });
    req.on('error', () => {});
    req.end();
    await until(() => silent.seen.length === 1, 'the request at the dyno');
    (req.socket as import('node:net').Socket).resetAndDestroy();
    expect(await r.line(/code=H27 desc="Client Request Interrupted"/)).to.match(/dyno=web\.1 .*status=499 /);
  });

  it('H27 in the log when the client goes away in the middle of a streamed response, with the dyno status', async () => {
    // A streaming response (a chunk every 50 ms): HAProxy learns of a client's reset when it
    // next writes to it, the Node router at once.
    const streaming = await backend((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const tick = setInterval(() => {
        if (res.destroyed || ++n > 40) {
          clearInterval(tick);
          res.end();
        } else res.write(`part ${n}\n`);
      }, 50);
    });
    table.set('app', [streaming.target('web.1')]);
    await settle();
    const req = http.request({
      host: '127.0.0.1',
      port: r.port,
      path: '/leave',
      headers: { host: HOST },
      agent: false,
    });
    req.on('error', () => {});
    req.on('response', (res) =>
      res.once('data', () => (req.socket as import('node:net').Socket).resetAndDestroy()),
    );
    req.end();
    expect(await r.line(/code=H27 .*path="\/leave"/, 4000)).to.match(/dyno=web\.1 .*status=200 /);
  });
});

describe('router: platform failures stay per request', () => {
  it('H99 when the route table throws, and a throwing log sink does not break requests', async () => {
    const dyno = await startBackend();
    const table = new TestTable().set('app', [dyno.target('web.1')]);
    let broken = true;
    const flaky = {
      appForHost: (h: string) => table.appForHost(h),
      route: (app: string) => {
        if (broken) throw new Error('state store down');
        return table.route(app);
      },
    };
    const errors: unknown[] = [];
    const r = await startRouter(flaky, {
      onError: (e) => errors.push(e),
      log: {
        write: () => {
          throw new Error('log hub down');
        },
      },
    });
    try {
      const failed = await request(r.port, { host: HOST });
      expect(failed.status).to.equal(503);
      expect(failed.body).to.contain('H99');
      expect(String(errors[0])).to.contain('state store down');
      broken = false;
      expect((await request(r.port, { host: HOST })).status).to.equal(200);
    } finally {
      await r.router.close();
      await dyno.close();
    }
  });
});

describe('router: the route hook (H99, plugin decisions)', () => {
  let dyno: Backend;
  let r: TestRouter;
  const errors: unknown[] = [];
  let explode = false;
  before(async () => {
    dyno = await startBackend();
    const kernel = new Kernel();
    kernel.hooks.route.tap('test-rules', (decision, req) => {
      if (explode) throw new Error('boom');
      if (req.host === 'old.example.test')
        return { kind: 'redirect', status: 301, location: 'https://app.example.test/' };
      if (req.host.endsWith('.preview.test')) return { kind: 'app', app: 'app' };
      return decision;
    });
    r = await startRouter(
      new TestTable().set('app', [dyno.target('web.1')]).set('other', [dyno.target('web.1')]),
      { kernel, onError: (e) => errors.push(e) },
    );
  });
  after(async () => {
    await r.router.close();
    await dyno.close();
  });

  it('plugins can redirect and add domain rules', async () => {
    const moved = await request(r.port, { host: 'old.example.test' });
    expect(moved.status).to.equal(301);
    expect(moved.headers.location).to.equal('https://app.example.test/');
    const preview = await request(r.port, { host: 'pr-7.preview.test' });
    expect(preview.status).to.equal(200);
    expect(dyno.seen.at(-1)!.headers.host).to.equal('pr-7.preview.test');
  });

  it('H99 when a route tap throws', async () => {
    explode = true;
    try {
      const reply = await request(r.port, { host: HOST });
      expect(reply.status).to.equal(503);
      expect(reply.body).to.contain('H99');
      // The kernel names the plugin and the hook that failed.
      expect(errors).to.have.length(1);
      expect(errors[0]).to.include({
        code: 'SLIPWAY_ERR_PLUGIN_FAILED',
        plugin: 'test-rules',
        hook: 'route',
      });
    } finally {
      explode = false;
    }
  });
});

// The Node router answers H80 from the maintenance plugin (a `route` tap); the HAProxy data
// plane from its state map, fed by the same maintenance state.
describePlanes('router: H80 maintenance', (plane) => {
  let dyno: Backend;
  let r: TestRouter;
  const maintenance = new Set<string>();
  before(async () => {
    dyno = await startBackend();
    const state = { isInMaintenance: (app: string) => maintenance.has(app) };
    const kernel = new Kernel();
    await kernel.use(maintenancePlugin, { state });
    const table = new TestTable().set('app', [dyno.target('web.1')]).set('other', [dyno.target('web.1')]);
    r = await startRouter(table, { kernel }, plane, { maintenance: state });
  });
  after(async () => {
    await r.router.close();
    await dyno.close();
  });

  it('H80: answers 503 with a page, and only for apps in maintenance', async () => {
    maintenance.add('app');
    const before = dyno.seen.length;
    const reply = await request(r.port, { host: HOST });
    expect(reply.status).to.equal(503);
    expect(reply.body).to.contain('Maintenance mode');
    expect(reply.headers['retry-after']).to.equal('60');
    const json = await request(r.port, { host: HOST, headers: { accept: 'application/json' } });
    expect(JSON.parse(json.body)).to.include({ code: 'H80' });
    expect((await request(r.port, { host: 'other.example.test' })).status).to.equal(200);
    expect(dyno.seen.length).to.equal(before + 1);
    expect(await r.line(/code=H80 desc="Maintenance mode"/)).to.contain('status=503');
    maintenance.delete('app');
    expect((await request(r.port, { host: HOST })).status).to.equal(200);
  });
});
