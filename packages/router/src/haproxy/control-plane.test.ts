/**
 * The control plane's start state (pure logic: what a new haproxy reads from files). Nothing
 * here talks to a haproxy: the stats socket path leads nowhere, so any command sent fails.
 */
import { expect } from 'chai';
import type { AppRoute } from '../route-table.js';
import { ControlPlane, type RouteListing } from './control-plane.js';
import { haproxyFiles } from './haproxy-config.js';
import { StatsSocket } from './stats-socket.js';

const DIR = '/nonexistent/slipway-haproxy';

function plane(apps: Record<string, number[]>, domains: [string, string][] = []): ControlPlane {
  const routes = new Map<string, AppRoute>(
    Object.entries(apps).map(([app, ports]) => [
      app,
      {
        app,
        state: 'ok',
        targets: ports.map((port, i) => ({ dyno: `web.${i + 1}`, host: '127.0.0.1', port })),
      },
    ]),
  );
  const table: RouteListing & { route(a: string): AppRoute | undefined; appForHost(): undefined } = {
    apps: () => routes.keys(),
    domains: () => domains,
    route: (a) => routes.get(a),
    appForHost: () => undefined,
  };
  return new ControlPlane(new StatsSocket(`${DIR}/none.sock`), DIR, {
    table,
    baseDomain: 'example.test',
    slots: 8,
    drainMs: 1000,
    quarantineMs: 5000,
    inFlightPerDyno: 50,
  });
}

describe('router: HAProxy control plane start state (unit)', () => {
  it('gives a new haproxy every host, state and dyno, and takes them as applied', async () => {
    const cp = plane({ a: [4001, 4002], b: [] }, [['www.a.test', 'a']]);
    const state = cp.prime();
    const f = haproxyFiles(DIR);
    expect(state.maps.get(f.hosts)).to.deep.equal([
      'a.example.test slot0',
      'b.example.test slot1',
      'www.a.test slot0',
    ]);
    // b has no dynos: H14 from the state map.
    expect(state.maps.get(f.states)).to.deep.equal(['slot1 H14']);
    const lines = state.servers.get(0)!;
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/^server web\.1_\d+ 127\.0\.0\.1:4001 init-addr libc,none maxconn 50 /);
    expect(lines[0]).to.contain('observe layer4 error-limit 1 on-error mark-down');
    expect(state.servers.get(1)).to.deep.equal([]);
    // Nothing left to apply: a command would fail (no socket there).
    await cp.sync();
  });

  it('keeps each app in its slot across a reload, and gives a new app none the old haproxy used', () => {
    const before = plane({ a: [4001], b: [4002] });
    before.prime();
    expect([before.appOfSlot('slot0'), before.appOfSlot('slot1')]).to.deep.equal(['a', 'b']);
    // a is gone, c is new: c must not take slot0, whose last lines the old haproxy may still log.
    const after = plane({ c: [4003], b: [4002] });
    after.prime(before);
    expect(after.appOfSlot('slot1')).to.equal('b');
    expect(after.appOfSlot('slot0')).to.equal(undefined);
    expect(after.appOfSlot('slot2')).to.equal('c');
  });
});
