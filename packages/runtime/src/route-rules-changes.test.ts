/**
 * The platform announces `routeRulesChanged` where what the route rules read changes (an app
 * created, renamed or deleted, a domain, a maintenance flag), not after every API call: a
 * config var keeps the rules the Node router holds. The platform runs on a manual clock that
 * never moves, so those rules never age out: a maintenance flag seen on the very next request
 * was seen through the announcement alone.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clockRef, definePlugin, manualClock } from '@slipway/core';
import { expect } from 'chai';
import { type Platform, startPlatform } from './platform.js';
import { apiCaller, routerGet } from './platform-harness.test-helper.js';

describe('route rule changes announced where rule inputs change (Node router)', function () {
  this.timeout(60_000);
  let dir: string;
  let p: Platform;
  let announced = 0;
  const clock = manualClock();
  const api = apiCaller(() => p);
  const call = async (method: string, path: string, body?: unknown) => (await api(method, path, body)).status;
  /** The router's answer for `quiet`: its status and H-code. */
  const answer = async () => {
    const r = await routerGet(p.routerPort, 'quiet');
    return `${r.status} ${/\bH\d\d\b/.exec(r.body)?.[0]}`;
  };
  /** Announcements during `fn`. */
  const during = async (fn: () => Promise<unknown>): Promise<number> => {
    const before = announced;
    await fn();
    return announced - before;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-rule-changes-'));
    await writeFile(join(dir, 'slipway.config.json'), JSON.stringify({ defaults: false, plugins: [] }));
    const frozen = definePlugin({
      name: 'test-frozen-clock',
      register(reg) {
        reg.service({ ref: clockRef, factory: () => clock });
      },
    });
    p = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      httpsPort: false,
      router: 'node',
      configFile: join(dir, 'slipway.config.json'),
      plugins: [frozen],
    });
    p.kernel.hooks.routeRulesChanged.tap('test-count', () => {
      announced++;
    });
  });
  after(async () => {
    await p?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a maintenance flag shows on the very next request; config:set and config:unset announce nothing', async () => {
    expect(p.routerDataPlane).to.equal('node');
    expect(
      await during(async () => expect(await call('POST', '/apps', { name: 'quiet' })).to.equal(201)),
    ).to.be.above(0);
    // The router keeps the app's rules from here on (the clock never moves).
    expect(await answer()).to.equal('503 H81');

    expect(
      await during(async () => {
        expect(await call('PATCH', '/apps/quiet/config-vars', { GREETING: 'hi' })).to.equal(200);
        expect(await call('PATCH', '/apps/quiet/config-vars', { GREETING: null })).to.equal(200);
      }),
      'announcements for config:set and config:unset',
    ).to.equal(0);

    expect(await during(() => call('PATCH', '/apps/quiet', { maintenance: true }))).to.equal(1);
    expect(await answer()).to.equal('503 H80');
    expect(await during(() => call('PATCH', '/apps/quiet', { maintenance: false }))).to.equal(1);
    expect(await answer()).to.equal('503 H81');
  });

  it('a domain added or removed and an app renamed or deleted are announced', async () => {
    expect(await during(() => call('POST', '/apps/quiet/domains', { hostname: 'www.quiet.test' }))).to.equal(
      1,
    );
    expect(await during(() => call('DELETE', '/apps/quiet/domains/www.quiet.test'))).to.equal(1);
    expect(await during(() => call('PATCH', '/apps/quiet', { name: 'renamed' }))).to.be.above(0);
    expect(await during(() => call('DELETE', '/apps/renamed'))).to.be.above(0);
  });
});
