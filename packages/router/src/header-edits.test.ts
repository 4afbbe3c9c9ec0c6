import { Kernel, withHeaderEdits } from '@slipway/core';
import { expect } from 'chai';
import {
  type Backend,
  request,
  startBackend,
  startRouter,
  type TestRouter,
  TestTable,
} from './test-harness.test.js';

describe('router: header edits of the route hook (real HTTP)', () => {
  let dyno: Backend;
  let r: TestRouter;

  before(async () => {
    dyno = await startBackend();
    const table = new TestTable().set('app', [dyno.target('web.1')]).set('plain', [dyno.target('web.1')]);
    const kernel = new Kernel();
    // Two plugins editing the same request: their edits merge.
    kernel.hooks.route.tap('auth-header', (d, req) =>
      d.kind === 'app' && d.app === 'app'
        ? withHeaderEdits(d, {
            requestHeaders: {
              set: { 'X-Auth-User': 'alice', 'Content-Length': '999', 'X-Forwarded-Proto': 'gopher' },
              remove: ['Cookie'],
            },
            responseHeaders: { 'Access-Control-Allow-Origin': '*', 'X-Served-For': req.host },
          })
        : d,
    );
    kernel.hooks.route.tap('canary-marker', (d, req) => {
      if (d.kind === 'app' && d.app === 'app')
        return withHeaderEdits(d, {
          requestHeaders: { set: { 'X-Canary': '1' } },
          responseHeaders: { 'Content-Type': 'application/x-router', 'Content-Length': '1' },
        });
      if (req.url === '/gone') return { kind: 'none' };
      if (req.url === '/moved')
        return withHeaderEdits(
          { kind: 'redirect', status: 308, location: 'https://elsewhere.test/' },
          { responseHeaders: { 'Strict-Transport-Security': 'max-age=60' } },
        );
      return d;
    });
    r = await startRouter(table, { kernel });
  });
  after(async () => {
    await r.router.close();
    await dyno.close();
  });

  it('sets and removes request headers for the dyno, never the framing or the router own ones', async () => {
    const reply = await request(r.port, {
      host: 'app.example.test',
      method: 'POST',
      headers: { cookie: 'session=secret', 'x-auth-user': 'mallory', 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(reply.status).to.equal(200);
    const seen = dyno.seen.at(-1)!;
    expect(seen.headers['x-auth-user']).to.equal('alice');
    expect(seen.headers['x-canary']).to.equal('1');
    expect(seen.headers.cookie).to.equal(undefined);
    expect(seen.headers['x-forwarded-proto']).to.equal('http');
    expect(seen.headers['content-length']).to.equal('5');
    expect(JSON.parse(reply.body).body).to.equal('hello');
  });

  it('adds response headers, replacing a same-named one of the dyno, on dyno answers and redirects', async () => {
    const reply = await request(r.port, { host: 'app.example.test' });
    expect(reply.headers['access-control-allow-origin']).to.equal('*');
    expect(reply.headers['x-served-for']).to.equal('app.example.test');
    expect(reply.headers['content-type']).to.equal('application/x-router');
    expect(Number(reply.headers['content-length'])).to.equal(Buffer.byteLength(reply.body));
    const moved = await request(r.port, { host: 'plain.example.test', path: '/moved' });
    expect(moved.status).to.equal(308);
    expect(moved.headers.location).to.equal('https://elsewhere.test/');
    expect(moved.headers['strict-transport-security']).to.equal('max-age=60');
  });

  it('adds them to the router own error answers too (H14)', async () => {
    const table = new TestTable().set('app', [], 'no-web');
    const kernel = new Kernel();
    kernel.hooks.route.tap('cors', (d) => withHeaderEdits(d, { responseHeaders: { 'X-Cors': 'yes' } }));
    const other = await startRouter(table, { kernel });
    try {
      const reply = await request(other.port, { host: 'app.example.test' });
      expect(reply.status).to.equal(503);
      expect(reply.headers['x-cors']).to.equal('yes');
    } finally {
      await other.router.close();
    }
  });

  it('leaves requests without edits as they were', async () => {
    const reply = await request(r.port, {
      host: 'plain.example.test',
      headers: { cookie: 'a=b', 'x-auth-user': 'mallory' },
    });
    expect(reply.status).to.equal(200);
    const seen = dyno.seen.at(-1)!;
    expect(seen.headers.cookie).to.equal('a=b');
    expect(seen.headers['x-auth-user']).to.equal('mallory');
    expect(reply.headers['content-type']).to.equal('application/json');
  });
});
