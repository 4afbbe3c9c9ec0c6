/**
 * Reloads of the HAProxy data plane under continuous load: a new haproxy must serve the whole
 * state (hosts, app states, route rules, dynos) from its first request, and no connection may
 * be lost between the old process and the new one. Real HTTP through a real haproxy to real
 * backends; each reload is forced by a rule reading a new header name (a new rule block).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { Kernel, type RouteRule } from '@slipway/core';
import { expect } from 'chai';
import { maintenancePlugin } from '../maintenance-plugin.js';
import {
  type Backend,
  request,
  requireHaproxy,
  startBackend,
  startRouter,
  type TestRouter,
  TestTable,
} from '../test-harness.test.js';
import type { HaproxyRouter } from './haproxy-router.js';

const RELOADS = 5;

/** One GET on a new connection, or on `agent`'s kept-alive ones: the status, or the error's code. */
function get(port: number, host: string, path: string, agent: http.Agent | false): Promise<string | number> {
  return new Promise((done) => {
    const req = http.get({ port, host: '127.0.0.1', path, headers: { host }, agent }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode!));
      res.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
    });
    req.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
  });
}

describe('router: HAProxy reloads under continuous load', function () {
  this.timeout(120_000);
  let web1: Backend;
  let web2: Backend;
  let r: TestRouter;
  const rules: RouteRule[] = [];
  const maintenance = new Set<string>(['parked']);
  const table = new TestTable();

  before(async function () {
    await requireHaproxy(this);
    web1 = await startBackend();
    web2 = await startBackend();
    const kernel = new Kernel();
    await kernel.use(maintenancePlugin, { state: { isInMaintenance: (a: string) => maintenance.has(a) } });
    await kernel.use({
      name: 'test-rules',
      register(reg) {
        reg.hooks.routeRules.tap('test-rules', (list, ctx) => {
          if (ctx.app === 'app') list.push(...rules);
          return list;
        });
      },
    });
    table.set('app', [web1.target('web.1'), web2.target('web.2')]).set('parked', [web1.target('web.1')]);
    table.domains.set('www.custom.test', 'app');
    r = await startRouter(table, { kernel }, 'haproxy', {
      maintenance: { isInMaintenance: (a: string) => maintenance.has(a) },
    });
  });
  after(async () => {
    // (The test closes it; close again is harmless.)
    await r?.router.close();
    await web1?.close();
    await web2?.close();
  });

  it(`${RELOADS} reloads: every request answered as before (no 404, no reset), rules and states held`, async () => {
    const router = r.router as HaproxyRouter;
    const pid = (): number => Number(readFileSync(join(router.dir, 'haproxy.pid'), 'utf8'));
    rules.push({ match: { pathPrefix: '/deny' }, action: { kind: 'respond', status: 403, body: 'no' } });
    await router.sync();
    // What each request must get, whichever haproxy answers it.
    const vectors = [
      { host: 'app.example.test', path: '/', want: 200 },
      { host: 'www.custom.test', path: '/', want: 200 },
      { host: 'app.example.test', path: '/deny', want: 403 },
      { host: 'parked.example.test', path: '/', want: 503 },
    ];
    for (const v of vectors) expect((await request(r.port, v)).status, v.host + v.path).to.equal(v.want);
    const wrong: string[] = [];
    let answered = 0;
    let stop = false;
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const loop = async (i: number): Promise<void> => {
      // Half the loops open a new connection per request, half keep theirs alive.
      const agent = i % 2 === 0 ? false : keepAlive;
      for (let n = i; !stop; n++) {
        const v = vectors[n % vectors.length]!;
        const got = await get(r.port, v.host, v.path, agent);
        answered++;
        if (got !== v.want) wrong.push(`${v.host}${v.path}: ${got}`);
      }
    };
    const loops = [0, 1, 2, 3].map(loop);
    const pids = [pid()];
    try {
      for (let i = 1; i <= RELOADS; i++) {
        // A rule on a header no rule read before: a new rule block, so a new haproxy.
        rules.push({
          match: { header: { name: `X-Reload-${i}`, value: 'yes' } },
          action: { kind: 'respond', status: 409, body: 'reloaded' },
        });
        await router.sync();
        pids.push(pid());
        await new Promise((ok) => setTimeout(ok, 400));
      }
    } finally {
      stop = true;
      await Promise.all(loops);
      keepAlive.destroy();
    }
    expect(new Set(pids).size, 'a new haproxy per reload').to.equal(RELOADS + 1);
    console.log(`      ${answered} requests across ${RELOADS} reloads, ${wrong.length} not as expected`);
    expect(wrong, wrong.slice(0, 8).join('; ')).to.deep.equal([]);
    const last = await request(r.port, {
      host: 'app.example.test',
      headers: { [`x-reload-${RELOADS}`]: 'yes' },
    });
    expect(last.status).to.equal(409);
    // The old haproxys are gone; the stats socket is the new one's: changes still apply live.
    await new Promise((ok) => setTimeout(ok, 500));
    table.set('fresh', [web2.target('web.1')]);
    await router.sync();
    expect((await request(r.port, { host: 'fresh.example.test' })).status).to.equal(200);
    expect(pid(), 'applied live, not by a reload').to.equal(pids.at(-1));
    // An old haproxy keeping an idle kept-alive connection open is ended by close too.
    const idle = new http.Agent({ keepAlive: true });
    expect(await get(r.port, 'app.example.test', '/', idle)).to.equal(200);
    rules.push({
      match: { header: { name: 'X-Reload-Last', value: 'yes' } },
      action: { kind: 'respond', status: 409, body: 'reloaded' },
    });
    await router.sync();
    expect(pid()).to.not.equal(pids.at(-1));
    pids.push(pid());
    await r.router.close();
    const alive = pids.filter((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'haproxy';
      } catch {
        return false;
      }
    });
    idle.destroy();
    expect(alive, 'haproxys left after close').to.deep.equal([]);
  });
});
