import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { request, requireHaproxy, startBackend, TestTable, until } from '../test-harness.test.js';
import { createHaproxyRouter } from './haproxy-router.js';

const alive = (pid: number): boolean => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'haproxy';
  } catch {
    return false;
  }
};

describe('router: the HAProxy process across platform restarts', () => {
  before(async function () {
    await requireHaproxy(this);
  });

  it('stops a haproxy left behind in its directory (a killed platform) before serving again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-haproxy-dir-'));
    const dyno = await startBackend();
    const table = new TestTable().set('app', [dyno.target('web.1')]);
    const listing = {
      appForHost: (h: string) => table.appForHost(h),
      route: (a: string) => table.route(a),
      apps: () => table.apps.keys(),
      domains: () => table.domains.entries(),
    };
    const first = createHaproxyRouter({ table: listing, baseDomain: 'example.test', dir, onError: () => {} });
    const { port } = await first.listen(0);
    const orphan = Number(readFileSync(join(dir, 'haproxy.pid'), 'utf8'));
    expect(alive(orphan)).to.equal(true);
    // The platform that ran `first` is gone without closing it; the next start uses the same dir.
    const second = createHaproxyRouter({ table: listing, baseDomain: 'example.test', dir });
    try {
      await until(() => !alive(orphan), 'the left-over haproxy to exit', 5000);
      await first.close(); // only its timers: its haproxy is already gone
      await second.listen(port);
      await second.sync();
      expect((await request(port, { host: 'app.example.test' })).status).to.equal(200);
    } finally {
      await second.close();
      await dyno.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
