// Over 400 lines: the same vectors on both data planes, each plane set up once.
/**
 * Route rules on both data planes, from the same vectors: the Node router evaluates them, the
 * HAProxy data plane runs them compiled into its maps. Real HTTP to real backends; the rules
 * come from real plugins on a real kernel, changed while the router runs.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { Kernel, type RouteRule, withHeaderEdits } from '@slipway/core';
import { expect } from 'chai';
import { ACME_CHALLENGE_PREFIX, acmeChallengePlugin } from './acme-challenge-plugin.js';
import type { HaproxyRouter } from './haproxy/haproxy-router.js';
import { httpsPolicyPlugin } from './https-policy-plugin.js';
import { maintenancePlugin } from './maintenance-plugin.js';
import {
  type Backend,
  describePlanes,
  request,
  settle,
  startBackend,
  startRouter,
  type TestRouter,
  TestTable,
} from './test-harness.test.js';

const HOST = 'app.example.test';

describePlanes('router: declarative route rules', (plane) => {
  let app: Backend;
  let canary: Backend;
  let r: TestRouter;
  const maintenance = new Set<string>();
  /** Pending ACME challenges: `host token` → key authorization. */
  const pending = new Map<string, string>();
  /** Apps asking for HTTPS (the router "has" certificates for every host but other.example.test). */
  const https = new Set<string>();
  /** The rules a test plugin returns, by app (changed by the tests as the router runs). */
  const rules = new Map<string, RouteRule[]>();
  const table = new TestTable();
  /** What the router reported (malformed rules, a throwing tap). */
  const errors: string[] = [];
  /** Apps whose rules tap throws. */
  const explode = new Set<string>();
  before(async () => {
    app = await startBackend();
    canary = await startBackend();
    const kernel = new Kernel();
    await kernel.use(maintenancePlugin, { state: { isInMaintenance: (a: string) => maintenance.has(a) } });
    await kernel.use(acmeChallengePlugin, {
      challenges: {
        keyAuthorization: (host: string, token: string) => pending.get(`${host} ${token}`),
        *challengesFor(host: string) {
          for (const [k, v] of pending)
            if (k.startsWith(`${host} `)) yield [k.slice(host.length + 1), v] as const;
        },
      },
    });
    await kernel.use(httpsPolicyPlugin, {
      source: {
        policy: (a: string) => (https.has(a) ? { redirect: true, hsts: 'max-age=300' } : undefined),
        covers: (host: string) => host !== 'other.example.test',
        httpsPort: () => 8443,
      },
    });
    await kernel.use({
      name: 'test-rules',
      register(reg) {
        reg.hooks.routeRules.tap('test-rules', (list, ctx) => {
          if (explode.has(ctx.app)) throw new Error('the plugin broke');
          list.push(...(rules.get(ctx.app) ?? []));
          return list;
        });
      },
    });
    // A third-party plugin with code per request: a `route` tap, and a `code` rule saying which
    // requests need it (on HAProxy those go through the Node router).
    await kernel.use({
      name: 'test-code',
      register(reg) {
        reg.hooks.routeRules.tap('test-code', (list, ctx) => {
          if (ctx.app === 'app') list.push({ match: { pathPrefix: '/code' }, action: { kind: 'code' } });
          return list;
        });
        reg.hooks.route.tap('test-code', (d, req) =>
          d.kind === 'app' && req.url.startsWith('/code')
            ? withHeaderEdits(d, {
                responseHeaders: { 'X-Tap': `${req.method} ${req.remoteAddress} ${req.protocol}` },
                requestHeaders: { set: { 'X-Url-Length': String(req.url.length) } },
              })
            : d,
        );
      },
    });
    table
      .set('app', [app.target('web.1')])
      .set('app-canary', [canary.target('web.1')])
      .set('other', [app.target('web.1')]);
    r = await startRouter(table, { kernel, onError: (e) => errors.push(String(e)) }, plane);
  });
  after(async () => {
    await r.router.close();
    await app.close();
    await canary.close();
  });
  afterEach(() => {
    rules.clear();
    maintenance.clear();
    pending.clear();
    https.clear();
    explode.clear();
  });

  it('maintenance as a rule: H80 page (HTML and JSON), Retry-After, the log line; other apps served', async () => {
    maintenance.add('app');
    const reply = await request(r.port, { host: HOST });
    expect(reply.status).to.equal(503);
    expect(reply.body).to.contain('Maintenance mode');
    expect(reply.headers['retry-after']).to.equal('60');
    expect(reply.headers['cache-control']).to.equal('no-cache, no-store');
    const json = await request(r.port, { host: HOST, headers: { accept: 'application/json' } });
    expect(JSON.parse(json.body)).to.include({ code: 'H80' }).and.to.have.property('request_id');
    expect((await request(r.port, { host: 'other.example.test' })).status).to.equal(200);
    expect(await r.line(/code=H80 desc="Maintenance mode"/)).to.contain('status=503');
    maintenance.delete('app');
    expect((await request(r.port, { host: HOST })).status).to.equal(200);
  });

  it('canary by header or cookie: another app, whose own rules then apply', async () => {
    const to = { kind: 'app', app: 'app-canary' } as const;
    rules.set('app', [
      { match: { header: { name: 'X-Canary', value: '1' } }, action: to },
      {
        match: { header: { name: 'x-canary', absent: true }, cookie: { name: 'canary', value: '1' } },
        action: to,
      },
    ]);
    const served = async (headers: Record<string, string>): Promise<string> => {
      const before = canary.seen.length;
      const reply = await request(r.port, { host: HOST, headers });
      expect(reply.status).to.equal(200);
      return canary.seen.length > before ? 'canary' : 'app';
    };
    expect(await served({ 'x-canary': '1' })).to.equal('canary');
    expect(await served({ cookie: 'a=b; canary=1' })).to.equal('canary');
    expect(await served({ 'x-canary': '0', cookie: 'canary=1' })).to.equal('app');
    expect(await served({ cookie: 'canary=2' })).to.equal('app');
    expect(await served({})).to.equal('app');
    // The canary app in maintenance: its rule answers the switched request.
    maintenance.add('app-canary');
    expect((await request(r.port, { host: HOST, headers: { 'x-canary': '1' } })).status).to.equal(503);
    expect((await request(r.port, { host: HOST })).status).to.equal(200);
    // A switch to an app that does not exist: the router's 404, as for an unknown host.
    rules.set('other', [{ action: { kind: 'app', app: 'missing' } }]);
    const none = await request(r.port, { host: 'other.example.test' });
    expect(none.status).to.equal(404);
    expect(none.body).to.contain('No such app');
  });

  it('answers with a body and headers on a path prefix from the given sources only', async () => {
    rules.set('app', [
      {
        match: { pathPrefix: '/admin', source: ['10.0.0.0/8'] },
        action: { kind: 'respond', status: 451, body: 'not from there', headers: { 'X-Why': 'ten' } },
      },
      {
        match: { pathPrefix: '/admin', source: ['127.0.0.0/8', '::1/128'] },
        action: {
          kind: 'respond',
          status: 403,
          body: 'admins only',
          headers: { 'Content-Type': 'text/plain', 'X-Why': 'loop back' },
        },
      },
    ]);
    const denied = await request(r.port, { host: HOST, path: '/admin/users?x=1' });
    expect(denied.status).to.equal(403);
    expect(denied.body).to.equal('admins only');
    expect(denied.headers['content-type']).to.equal('text/plain');
    expect(denied.headers['x-why']).to.equal('loop back');
    expect((await request(r.port, { host: HOST, path: '/adm' })).status).to.equal(200);
    expect((await request(r.port, { host: 'other.example.test', path: '/admin' })).status).to.equal(200);
  });

  it('redirects plain HTTP of one host, keeping the path and query', async () => {
    rules.set('app', [
      {
        match: { protocol: 'http', host: HOST },
        action: { kind: 'redirect', status: 308, location: `https://${HOST}:8443`, keepPath: true },
      },
      {
        match: { pathPrefix: '/moved' },
        action: { kind: 'redirect', status: 301, location: 'https://elsewhere.test/x' },
      },
    ]);
    const reply = await request(r.port, { host: HOST, path: '/a/b?c=d' });
    expect(reply.status).to.equal(308);
    expect(reply.headers.location).to.equal(`https://${HOST}:8443/a/b?c=d`);
    rules.set('app', rules.get('app')!.slice(1));
    const moved = await request(r.port, { host: HOST, path: '/moved/1' });
    expect(moved.status).to.equal(301);
    expect(moved.headers.location).to.equal('https://elsewhere.test/x');
  });

  it('edits request and response headers, every matching edit rule adding its own', async () => {
    rules.set('app', [
      { action: { kind: 'edit', requestHeaders: { set: { 'X-Plan': 'gold plan' }, remove: ['X-Secret'] } } },
      {
        match: { header: { name: 'x-debug' } },
        action: { kind: 'edit', responseHeaders: { 'X-Debug-Seen': 'yes; really' } },
      },
      { action: { kind: 'edit', responseHeaders: { 'X-Frame-Options': 'DENY' } } },
    ]);
    const reply = await request(r.port, {
      host: HOST,
      headers: { 'x-secret': 's', 'x-plan': 'free', 'x-debug': '' },
    });
    expect(reply.status).to.equal(200);
    const seen = JSON.parse(reply.body).headers;
    expect(seen['x-plan']).to.equal('gold plan');
    expect(seen).to.not.have.property('x-secret');
    // A client naming the rule's header in Connection (hop by hop) drops its own copy, never the rule's.
    const hop = await request(r.port, { host: HOST, headers: { 'x-plan': 'free', connection: 'x-plan' } });
    expect(JSON.parse(hop.body).headers['x-plan']).to.equal('gold plan');
    expect(reply.headers['x-frame-options']).to.equal('DENY');
    expect(reply.headers['x-debug-seen']).to.equal('yes; really');
    const plain = await request(r.port, { host: HOST });
    expect(plain.headers['x-frame-options']).to.equal('DENY');
    expect(plain.headers).to.not.have.property('x-debug-seen');
    // Edits apply to a rule's answer too.
    maintenance.add('app');
    expect((await request(r.port, { host: HOST })).headers['x-frame-options']).to.equal('DENY');
  });

  it('ACME http-01 for a custom domain of the app (a new status in the rules: a reload on HAProxy)', async () => {
    table.domains.set('www.app.test', 'app');
    try {
      pending.set('www.app.test tokenA', 'tokenA.key');
      const answer = await request(r.port, { host: 'www.app.test', path: `${ACME_CHALLENGE_PREFIX}tokenA` });
      expect(answer.status).to.equal(200);
      expect(answer.body).to.equal('tokenA.key');
      expect((await request(r.port, { host: HOST, path: `${ACME_CHALLENGE_PREFIX}tokenA` })).status).to.equal(
        200,
      );
      expect(
        (await request(r.port, { host: HOST, path: `${ACME_CHALLENGE_PREFIX}tokenA` })).body,
      ).to.not.equal('tokenA.key');
      if (plane === 'haproxy') {
        // Reloaded once for the new shape, then stable (no reload per sync).
        const pid = () => readFileSync(join((r.router as HaproxyRouter).dir, 'haproxy.pid'), 'utf8');
        const before = pid();
        await settle();
        await settle();
        expect(pid()).to.equal(before);
      }
    } finally {
      table.domains.delete('www.app.test');
    }
  });

  it('ACME http-01 and the HTTPS redirect as rules: the challenge first, even in maintenance', async () => {
    https.add('app');
    const moved = await request(r.port, { host: HOST, path: '/x?y=1' });
    expect(moved.status).to.equal(308);
    expect(moved.headers.location).to.equal(`https://${HOST}:8443/x?y=1`);
    const token = 'tok-EN_123abcXYZ';
    pending.set(`${HOST} ${token}`, `${token}.thumb-print_42`);
    maintenance.add('app');
    const answer = await request(r.port, { host: HOST, path: `${ACME_CHALLENGE_PREFIX}${token}` });
    expect(answer.status).to.equal(200);
    expect(answer.body).to.equal(`${token}.thumb-print_42`);
    expect(answer.headers['content-type']).to.equal('text/plain; charset=utf-8');
    expect((await request(r.port, { host: HOST, path: `${ACME_CHALLENGE_PREFIX}other` })).status).to.equal(
      308,
    );
    pending.clear();
    expect((await request(r.port, { host: HOST, path: `${ACME_CHALLENGE_PREFIX}${token}` })).status).to.equal(
      308,
    );
  });

  it('a plugin that needs code: its requests run its route tap (on HAProxy through the Node router)', async () => {
    const reply = await request(r.port, {
      host: HOST,
      path: '/code/abc',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(reply.status).to.equal(200);
    expect(reply.headers['x-tap']).to.equal('GET 127.0.0.1 http');
    const seen = JSON.parse(reply.body).headers;
    expect(seen['x-url-length']).to.equal('9');
    expect(seen['x-forwarded-for']).to.equal('203.0.113.9, 127.0.0.1');
    expect(seen['x-forwarded-proto']).to.equal('http');
    expect(seen['x-forwarded-port']).to.equal(String(r.port));
    expect(seen.via).to.equal('1.1 slipway');
    expect(reply.headers.via).to.equal('1.1 slipway');
    expect(await r.line(/path="\/code\/abc"/)).to.match(/status=200/);
    await new Promise((done) => setTimeout(done, 300));
    expect(r.lines.filter((l) => l.message.includes('path="/code/abc"'))).to.have.length(1);
    // Maintenance still answers (the Node router runs the rules too), and other paths stay in HAProxy.
    maintenance.add('app');
    expect((await request(r.port, { host: HOST, path: '/code/abc' })).status).to.equal(503);
    maintenance.clear();
    expect((await request(r.port, { host: HOST, path: '/plain' })).headers).to.not.have.property('x-tap');
  });

  it('a throwing rules tap: the app keeps its last good rules and is served', async () => {
    rules.set('app', [
      { match: { pathPrefix: '/gone' }, action: { kind: 'respond', status: 410, body: 'gone' } },
    ]);
    expect((await request(r.port, { host: HOST, path: '/gone' })).status).to.equal(410);
    explode.add('app');
    explode.add('other');
    expect((await request(r.port, { host: HOST, path: '/gone' })).status).to.equal(410);
    expect((await request(r.port, { host: HOST, path: '/' })).status).to.equal(200);
    expect((await request(r.port, { host: 'other.example.test' })).status).to.equal(200);
  });

  it('skips a malformed rule and keeps serving the app', async () => {
    rules.set('app', [
      { match: { pathPrefix: 'no-slash' }, action: { kind: 'respond', status: 200, body: 'x' } },
      // Ranges Node's BlockList throws on: once they failed the compile (every app's maps) and
      // the Node router's answer; now the check refuses them.
      { match: { source: ['10.0.0.0/33'] }, action: { kind: 'respond', status: 403, body: 'x' } },
      { match: { source: ['999.1.1.1'] }, action: { kind: 'respond', status: 403, body: 'x' } },
      { match: { pathPrefix: '/ok' }, action: { kind: 'respond', status: 202, body: 'fine' } },
    ]);
    expect((await request(r.port, { host: HOST, path: '/ok' })).status).to.equal(202);
    expect((await request(r.port, { host: HOST, path: '/no-slash' })).status).to.equal(200);
    // Each is named by its place among the app's rules.
    expect(errors.join('\n')).to.contain('rule #2 of app app').and.contain('rule #3 of app app');
  });

  it("an app's rules never reach another app's requests, even when they name its host", async () => {
    rules.set('other', [
      { match: { host: HOST }, action: { kind: 'respond', status: 403, body: 'not yours' } },
      { match: { host: HOST }, action: { kind: 'edit', responseHeaders: { 'X-Hijacked': 'yes' } } },
      { match: { host: HOST }, action: { kind: 'redirect', status: 302, location: 'https://evil.test/' } },
    ]);
    const reply = await request(r.port, { host: HOST });
    expect(reply.status).to.equal(200);
    expect(reply.headers).to.not.have.property('x-hijacked');
    expect((await request(r.port, { host: 'other.example.test' })).status).to.equal(200);
  });

  it('a deny rule holds through reloads (a new answer status is one on HAProxy): no request slips past it', async () => {
    const deny = (status: number): RouteRule[] => [
      { match: { pathPrefix: '/deny' }, action: { kind: 'respond', status, body: 'no' } },
    ];
    rules.set('app', deny(460));
    await settle();
    const seen = new Map<string | number, number>();
    let stop = false;
    const loop = async (): Promise<void> => {
      while (!stop) {
        // A new connection each time (during a reload both haproxys take them), not waiting for
        // the router to settle as request() does.
        const status = await new Promise<string | number>((done) => {
          const req = http.get(
            { port: r.port, host: '127.0.0.1', path: '/deny', headers: { host: HOST }, agent: false },
            (res) => done(res.resume().statusCode!),
          );
          req.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
        });
        seen.set(status, (seen.get(status) ?? 0) + 1);
      }
    };
    const loops = [loop(), loop(), loop()];
    for (const status of [461, 462, 463, 464]) {
      rules.set('app', deny(status));
      table.set('app', [app.target('web.1')]);
      await new Promise((ok) => setTimeout(ok, 500));
    }
    stop = true;
    await Promise.all(loops);
    expect(seen.get(200), JSON.stringify([...seen])).to.equal(undefined);
    expect((await request(r.port, { host: HOST, path: '/deny' })).status).to.equal(464);
  });

  it('a path prefix holds however the path spells its unreserved characters (no bypass by /%61dmin)', async () => {
    rules.set('app', [
      { match: { pathPrefix: '/admin' }, action: { kind: 'respond', status: 403, body: 'no' } },
    ]);
    for (const path of ['/admin', '/%61dmin/x', '/%61%64%6D%69%6e?q=1', '/adm%69n'])
      expect((await request(r.port, { host: HOST, path })).status, path).to.equal(403);
    // Reserved characters keep their escapes: a slash spelled %2F is another path.
    for (const path of ['/%2Fadmin', '/admi', '/'])
      expect((await request(r.port, { host: HOST, path })).status, path).to.equal(200);
  });

  it('a header rule without a value holds however often the header is sent (no bypass by sending it twice)', async () => {
    rules.set('app', [
      {
        match: { header: { name: 'X-Internal' } },
        action: { kind: 'respond', status: 403, body: 'internal only' },
      },
    ]);
    expect((await request(r.port, { host: HOST, headers: { 'x-internal': '1' } })).status).to.equal(403);
    const twice = await request(r.port, { host: HOST, headers: { 'x-internal': ['1', '2'] } });
    expect(twice.status).to.equal(403);
    expect((await request(r.port, { host: HOST })).status).to.equal(200);
  });
});
