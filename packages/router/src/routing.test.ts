import { expect } from 'chai';
import {
  type Backend,
  describePlanes,
  request,
  sleep,
  startBackend,
  startRouter,
  type TestRouter,
  TestTable,
} from './test-harness.test.js';

describePlanes('router: routing by Host and forwarded headers (real HTTP)', (plane) => {
  let a: Backend;
  let b: Backend;
  let r: TestRouter;
  const table = new TestTable();

  before(async () => {
    a = await startBackend();
    b = await startBackend();
    table.set('app', [a.target('web.1')]).set('other', [b.target('web.1')]);
    table.domains.set('www.custom.test', 'other');
    r = await startRouter(table, {}, plane);
  });
  after(async () => {
    await r.router.close();
    await a.close();
    await b.close();
  });

  const get = (host: string, headers: Record<string, string | string[]> = {}, path = '/') =>
    request(r.port, { host, headers, path });

  it('routes <app>.<base-domain> and custom domains to the right app', async () => {
    const one = await get('app.example.test', {}, '/hello?x=1');
    expect(one.status).to.equal(200);
    expect(JSON.parse(one.body).url).to.equal('/hello?x=1');
    expect(a.seen.at(-1)!.url).to.equal('/hello?x=1');
    const two = await get('www.custom.test');
    expect(two.status).to.equal(200);
    expect(b.seen.at(-1)!.headers.host).to.equal('www.custom.test');
  });

  it('matches after lower-casing, stripping the port and a trailing dot', async () => {
    for (const host of [
      'APP.Example.TEST',
      'app.example.test:8080',
      'app.example.test.',
      'App.Example.Test.:80',
    ]) {
      const before = a.seen.length;
      const reply = await get(host);
      expect(reply.status, host).to.equal(200);
      expect(a.seen.length, host).to.equal(before + 1);
    }
  });

  it('never matches by substring or prefix, and never reaches another app', async () => {
    const before = a.seen.length + b.seen.length;
    for (const host of [
      'evilapp.example.test',
      'app.example.test.evil.test',
      'xapp.example.test',
      'app.example.testx',
      'app-example.test',
      'a.app.example.test',
      'example.test',
      '.example.test',
      'api.example.test',
      'app..example.test',
      'app.example.test..',
      'custom.test',
      'evil.www.custom.test',
    ]) {
      const reply = await get(host);
      expect(reply.status, host).to.equal(404);
    }
    expect(a.seen.length + b.seen.length).to.equal(before);
  });

  it('answers an unknown host with a 404 page, or JSON when the client asks', async () => {
    const html = await get('nope.example.test');
    expect(html.status).to.equal(404);
    expect(html.headers['content-type']).to.match(/text\/html/);
    expect(html.body).to.contain('<h1>No such app</h1>');
    const json = await get('nope.example.test', { accept: 'application/json' });
    expect(json.headers['content-type']).to.match(/application\/json/);
    expect(JSON.parse(json.body)).to.include({ message: 'No such app' });
  });

  it('adds X-Request-Id, X-Forwarded-For/Proto/Port, X-Request-Start and Via', async () => {
    const t0 = Date.now();
    await get('app.example.test', {
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-request-start': '1',
      via: '1.0 corp-proxy',
    });
    const h = a.seen.at(-1)!.headers;
    expect(h['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    // Appended to, not trusted: the real peer address ends the chain.
    expect(h['x-forwarded-for']).to.equal('203.0.113.9, 127.0.0.1');
    expect(h['x-forwarded-proto']).to.equal('http');
    expect(h['x-forwarded-port']).to.equal(String(r.port));
    expect(Number(h['x-request-start'])).to.be.within(t0 - 5, Date.now() + 5);
    expect(h.via).to.equal('1.0 corp-proxy, 1.1 slipway');
  });

  it('joins several client X-Forwarded-For headers before appending the peer', async () => {
    await get('app.example.test', { 'x-forwarded-for': ['1.1.1.1', '2.2.2.2'] });
    expect(a.seen.at(-1)!.headers['x-forwarded-for']).to.equal('1.1.1.1, 2.2.2.2, 127.0.0.1');
  });

  it('keeps a valid client X-Request-ID and replaces an invalid one', async () => {
    const good = 'abcDEF0123456789+/=-xyz';
    await get('app.example.test', { 'x-request-id': good });
    expect(a.seen.at(-1)!.headers['x-request-id']).to.equal(good);
    for (const bad of [
      'short',
      'x'.repeat(201),
      'has spaces in it but long enough',
      'semi;colons;are;not;allowed;here',
    ]) {
      await get('app.example.test', { 'x-request-id': bad });
      const id = a.seen.at(-1)!.headers['x-request-id'];
      expect(id, bad).to.not.equal(bad);
      expect(id).to.match(/^[0-9a-f-]{36}$/);
    }
    const exactly200 = 'a'.repeat(200);
    await get('app.example.test', { 'x-request-id': exactly200 });
    expect(a.seen.at(-1)!.headers['x-request-id']).to.equal(exactly200);
  });

  it('drops hop-by-hop headers, including those named in Connection, but not Host or Cookie', async () => {
    await get('app.example.test', {
      connection: 'keep-alive, x-secret, host, cookie, via',
      via: '1.0 upstream',
      'x-secret': 's',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      cookie: 'c=1',
    });
    const h = a.seen.at(-1)!.headers;
    expect(h).to.not.have.property('x-secret');
    expect(h).to.not.have.property('keep-alive');
    expect(h).to.not.have.property('proxy-connection');
    expect(h).to.not.have.property('te');
    expect(h.cookie).to.equal('c=1');
    expect(h.host).to.equal('app.example.test');
    expect(h.via).to.equal('1.0 upstream, 1.1 slipway');
  });

  it('passes the response through with Via added and hop-by-hop headers removed', async () => {
    const reply = await get('app.example.test');
    expect(reply.headers.via).to.equal('1.1 slipway');
    expect(reply.headers['content-type']).to.equal('application/json');
  });

  it('writes one Heroku-style log line per request to the app stream', async () => {
    await get(
      'app.example.test',
      { 'x-request-id': 'req-0123456789abcdefghij', 'x-forwarded-for': '9.9.9.9' },
      '/log?q="x"',
    );
    const line = await r.line(/request_id=req-0123456789abcdefghij/);
    // Lines may come a moment after the answer (HAProxy's log ring): one for this request only.
    await sleep(200);
    const mine = r.lines.filter((l) => l.message.includes('request_id=req-0123456789abcdefghij'));
    expect(mine).to.have.length(1);
    const entry = mine[0]!;
    expect(entry).to.include({ app: 'app', source: 'slipway', dyno: 'router' });
    expect(line).to.match(
      /^at=info method=GET path="\/log\?q=%22x%22" host=app\.example\.test request_id=req-0123456789abcdefghij fwd="9\.9\.9\.9, 127\.0\.0\.1" dyno=web\.1 connect=\d+ms service=\d+ms status=200 bytes=\d+ protocol=http$/,
    );
    const bytes = Number(/bytes=(\d+)/.exec(line)![1]);
    expect(bytes).to.be.greaterThan(50);
  });
});
