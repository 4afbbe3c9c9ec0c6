/**
 * The HAProxy data plane applies a route plugin's change as soon as the kernel's
 * `routeRulesChanged` announces it, not at its next poll: with the poll made an hour long, a
 * maintenance flag flipped silently is not served, and once announced it is. Real haproxy, real
 * HTTP, the real maintenance plugin.
 */
import { Kernel } from '@slipway/core';
import { expect } from 'chai';
import { maintenancePlugin } from '../maintenance-plugin.js';
import {
  type Backend,
  request,
  requireHaproxy,
  sleep,
  startBackend,
  TestTable,
} from '../test-harness.test.js';
import { createHaproxyRouter, type HaproxyRouter } from './haproxy-router.js';

describe('router: HAProxy applies announced route rule changes at once', function () {
  this.timeout(60_000);
  let dyno: Backend;
  let router: HaproxyRouter;
  let port: number;
  const kernel = new Kernel();
  const parked = new Set<string>();

  before(async function () {
    await requireHaproxy(this);
    await kernel.use(maintenancePlugin, { state: { isInMaintenance: (a: string) => parked.has(a) } });
    dyno = await startBackend();
    const table = new TestTable().set('app', [dyno.target('web.1')]);
    router = createHaproxyRouter({
      table: {
        appForHost: (h) => table.appForHost(h),
        route: (a) => table.route(a),
        apps: () => table.apps.keys(),
        domains: () => table.domains.entries(),
      },
      baseDomain: 'example.test',
      kernel,
      // No poll during the test: only an announcement (or a table change) applies anything.
      syncIntervalMs: 3_600_000,
      onError: () => {},
    });
    ({ port } = await router.listen(0));
  });
  after(async () => {
    await router?.close();
    await dyno?.close();
  });

  /** Status and H-code of a request for the app (`request` settles only the harness's own routers). */
  const answer = async () => {
    const r = await request(port, { host: 'app.example.test' });
    return `${r.status} ${/\bH\d\d\b/.exec(r.body)?.[0] ?? ''}`.trim();
  };
  /** The first answer that is `want`, or the last one after 5 s (the poll is an hour away). */
  const soon = async (want: string) => {
    let seen = await answer();
    for (const end = Date.now() + 5000; seen !== want && Date.now() < end; seen = await answer())
      await sleep(20);
    return seen;
  };

  it('serves a maintenance flag once announced, without waiting for the poll', async () => {
    expect(await answer()).to.equal('200');
    parked.add('app');
    // Unannounced, the flag waits for the poll.
    await sleep(500);
    expect(await answer()).to.equal('200');
    kernel.hooks.routeRulesChanged.call();
    expect(await soon('503 H80')).to.equal('503 H80');
    parked.delete('app');
    kernel.hooks.routeRulesChanged.call();
    expect(await soon('200')).to.equal('200');
  });
});
