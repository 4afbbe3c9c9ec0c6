/**
 * The Node router keeps each app's route rules between requests: the `routeRules` taps run once
 * per change, not per request, and a change announced with `routeRulesChanged` (maintenance,
 * an ACME challenge, an HTTPS policy) is seen by the very next request. Real router, real HTTP,
 * real first-party plugins; the clock is a manual one, so "not per request" does not depend on
 * how fast the machine is.
 */
import http from 'node:http';
import { clockRef, Kernel, manualClock } from '@slipway/core';
import { expect } from 'chai';
import { ACME_CHALLENGE_PREFIX, acmeChallengePlugin } from './acme-challenge-plugin.js';
import { httpsPolicyPlugin } from './https-policy-plugin.js';
import { maintenancePlugin } from './maintenance-plugin.js';
import { RULES_MAX_AGE_MS } from './route-rules-cache.js';
import { type Backend, startBackend, startRouter, type TestRouter, TestTable } from './test-harness.test.js';

const HOST = 'app.example.test';

/** One request, without the harness's `settle` (which announces every change itself). */
function get(
  port: number,
  path = '/',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { host: HOST }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

describe('router: route rules kept between requests (Node)', () => {
  let app: Backend;
  let r: TestRouter;
  const kernel = new Kernel();
  const clock = manualClock();
  const maintenance = new Set<string>();
  const pending = new Map<string, string>();
  const https = new Set<string>();
  /** Calls of the rule taps, per plugin. */
  const calls = { maintenance: 0, acme: 0, https: 0 };
  const announce = () => kernel.hooks.routeRulesChanged.call();

  before(async () => {
    app = await startBackend();
    kernel.provide(clockRef, clock);
    await kernel.use(maintenancePlugin, {
      state: {
        isInMaintenance: (a: string) => {
          calls.maintenance++;
          return maintenance.has(a);
        },
      },
    });
    await kernel.use(acmeChallengePlugin, {
      challenges: {
        keyAuthorization: (host: string, token: string) => pending.get(`${host} ${token}`),
        *challengesFor(host: string) {
          calls.acme++;
          for (const [k, v] of pending)
            if (k.startsWith(`${host} `)) yield [k.slice(host.length + 1), v] as const;
        },
      },
    });
    await kernel.use(httpsPolicyPlugin, {
      source: {
        policy: (a: string) => {
          calls.https++;
          return https.has(a) ? { redirect: true } : undefined;
        },
        covers: () => true,
        httpsPort: () => 8443,
      },
    });
    const table = new TestTable().set('app', [app.target('web.1')]);
    r = await startRouter(table, { kernel });
  });
  after(async () => {
    await r.router.close();
    await app.close();
  });

  it('runs the taps once for many requests, again after an announced change or the maximum age', async () => {
    announce();
    const before = { ...calls };
    for (let i = 0; i < 20; i++) expect((await get(r.port)).status).to.equal(200);
    // Once for the first request; the clock did not move and nothing was announced.
    expect(calls).to.deep.equal({
      maintenance: before.maintenance + 1,
      acme: before.acme + 1,
      https: before.https + 1,
    });
    announce();
    await get(r.port);
    await get(r.port);
    expect(calls.maintenance).to.equal(before.maintenance + 2);
    // An unannounced change is read again once the rules are older than the maximum age.
    clock.advance(RULES_MAX_AGE_MS - 1);
    await get(r.port);
    expect(calls.maintenance).to.equal(before.maintenance + 2);
    clock.advance(1);
    await get(r.port);
    expect(calls.maintenance).to.equal(before.maintenance + 3);
  });

  it('maintenance on and off takes effect on the next request once announced', async () => {
    expect((await get(r.port)).status).to.equal(200);
    maintenance.add('app');
    announce();
    const down = await get(r.port);
    expect(down.status).to.equal(503);
    expect(down.body).to.contain('Maintenance mode');
    maintenance.delete('app');
    announce();
    expect((await get(r.port)).status).to.equal(200);
  });

  it('a new ACME challenge is answered by the next request once announced', async () => {
    const path = `${ACME_CHALLENGE_PREFIX}tok-1`;
    expect((await get(r.port, path)).status).to.equal(200); // the app's own answer
    expect(app.seen.at(-1)?.url).to.equal(path);
    pending.set(`${HOST} tok-1`, 'tok-1.thumb');
    announce();
    const answer = await get(r.port, path);
    expect(answer.status).to.equal(200);
    expect(answer.body).to.equal('tok-1.thumb');
    pending.clear();
    announce();
  });

  it('an HTTPS policy change redirects the next request once announced, and stops when turned off', async () => {
    https.add('app');
    announce();
    const moved = await get(r.port, '/a?b');
    expect(moved.status).to.equal(308);
    expect(moved.headers.location).to.equal(`https://${HOST}:8443/a?b`);
    https.delete('app');
    announce();
    expect((await get(r.port, '/a?b')).status).to.equal(200);
  });

  it('a route table change drops the kept rules too', async () => {
    const table = new TestTable().set('app', [app.target('web.1')]);
    const k = new Kernel();
    k.provide(clockRef, clock);
    let n = 0;
    await k.use({
      name: 'count',
      register(reg) {
        reg.hooks.routeRules.tap('count', (rules) => {
          n++;
          return rules;
        });
      },
    });
    const listeners: (() => void)[] = [];
    const live = await startRouter(
      {
        appForHost: (h) => table.appForHost(h),
        route: (a) => table.route(a),
        onChange: (f) => listeners.push(f),
      },
      { kernel: k },
    );
    try {
      await get(live.port);
      await get(live.port);
      expect(n).to.equal(1);
      for (const f of listeners) f();
      await get(live.port);
      expect(n).to.equal(2);
    } finally {
      await live.router.close();
    }
  });
});
