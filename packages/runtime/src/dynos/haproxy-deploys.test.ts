/**
 * Zero-downtime deploys through the HAProxy data plane: real dynos (the dyno manager over the
 * local runtime) behind `createHaproxyRouter`, ten release switches under continuous load,
 * not one failed request. The same drive as dyno-manager.test.ts's switch under load, with
 * more switches: every one adds servers over the stats socket, disables the old ones and
 * deletes them once drained. Halfway, a dyno that refuses connections joins the route: HAProxy
 * quarantines it on its first refusal and retries those requests on the others.
 */
import net from 'node:net';
import { Kernel, type SlugRef } from '@slipway/core';
import { createHaproxyRouter, type HaproxyRouter, type RouteTarget } from '@slipway/router';
import { requireHaproxy } from '@slipway/router/test-kit';
import { expect } from 'chai';
import type { FsSlugStore } from '../state/fs-slug-store.js';
import { DynoManager, type DynoTarget } from './dyno-manager.js';
import {
  FIXTURE_TYPES,
  get,
  MemoryLog,
  packSlug,
  tempDataDir,
  waitFor,
} from './dyno-test-kit.test-helper.js';
import { LocalDynoRuntime } from './local-runtime.js';

const BASE = 'slipway.test';

/** A loopback port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * HAProxy's `show stat`, one record per proxy or server, by the CSV's own column names (the
 * columns from `last_chk` on may be shifted: it is quoted and can hold commas).
 */
function stats(socket: string): Promise<Record<string, string>[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const c = net.connect(socket, () => c.end('show stat\n'));
    c.on('data', (d) => {
      text += d;
    });
    c.on('error', reject);
    c.on('close', () => {
      const [head, ...rows] = text.trim().split('\n');
      const names = head!.replace(/^# /, '').split(',');
      resolve(rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [names[i], v]))));
    });
  });
}
const DEPLOYS = 10;

describe('HAProxy data plane: deploys under continuous load (real dynos)', function () {
  this.timeout(120_000);
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  let store: FsSlugStore;
  let slug: SlugRef;
  let runtime: LocalDynoRuntime;
  let manager: DynoManager;
  let router: HaproxyRouter;
  let port: number;
  const log = new MemoryLog();
  /** A dyno that refuses connections (its port closed), once the test adds it to the route. */
  let refusing: RouteTarget | undefined;

  before(async function () {
    await requireHaproxy(this);
    data = await tempDataDir();
    ({ store, slug } = await packSlug(data.dir));
    runtime = new LocalDynoRuntime({ dataDir: data.dir, slugStore: store, memoryPollMs: 1000 });
    manager = new DynoManager({
      kernel: new Kernel(),
      runtime,
      log,
      bootTimeoutMs: 10_000,
      stopGraceMs: 2000,
      switchDelayMs: 300,
      sizes: { 'standard-1x': 512 },
      memoryLogEveryMs: 60_000,
    });
    const table = manager.routeTable();
    router = createHaproxyRouter({
      table: {
        ...table,
        route: (app) => {
          const r = table.route(app);
          return r && refusing ? { ...r, targets: [...r.targets, refusing] } : r;
        },
        apps: () => ['busy'],
        domains: () => [],
      },
      baseDomain: BASE,
      log,
      // Checked again only after a minute: what marks the refusing dyno down is its traffic.
      timeouts: { quarantine: 60_000 },
    });
    port = (await router.listen(0, '127.0.0.1')).port;
  });
  after(async () => {
    await manager?.close();
    await router?.close(100);
    await runtime?.close(500);
    await data?.cleanup();
  });

  const target = (release: number): DynoTarget => ({
    release,
    slug,
    env: { RELEASE_TAG: `v${release}` },
    processTypes: { ...FIXTURE_TYPES },
    formation: { web: { quantity: 2, size: 'standard-1x' } },
  });

  it(`switches ${DEPLOYS} releases under continuous load without a failed request; a refusing dyno is quarantined, its requests retried`, async () => {
    await manager.apply('busy', target(1));
    await router.sync();
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    const worker = async (_: unknown, i: number) => {
      while (!stop) {
        try {
          const r = await get(port, i % 2 ? '/slow' : '/', `busy.${BASE}`);
          if (r.status === 200) {
            ok++;
            seen.add(r.body.split(' ')[0]!);
          } else failures.push(`${r.status} ${r.body.slice(0, 120)}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    };
    const load = Array.from({ length: 8 }, worker);
    for (let release = 2; release <= DEPLOYS + 1; release++) {
      if (release === 2 + DEPLOYS / 2) {
        refusing = { dyno: 'web.9', host: '127.0.0.1', port: await closedPort() };
        await router.sync();
      }
      await manager.apply('busy', target(release));
    }
    const last = `v${DEPLOYS + 1}`;
    await waitFor(
      'old dynos to exit',
      () => manager.status('busy').every((d) => d.release === DEPLOYS + 1),
      20_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(load);
    expect(failures, failures.slice(0, 5).join('; ')).to.deep.equal([]);
    expect(ok).to.be.greaterThan(100);
    // The refusing dyno was tried, refused, and is down (quarantined): its requests, retried
    // elsewhere, are among the ones above, none failed.
    const stat = (await stats(router.statsSocket!)).find((s) => s.svname.startsWith('web.9_'));
    expect(stat, 'the refusing dyno is a server of the app').to.not.equal(undefined);
    expect(Number(stat!.wredis), 'its requests redispatched to another dyno').to.be.greaterThan(0);
    expect(stat!.status).to.equal('DOWN');
    // Down by what its traffic met (observe layer4, HANA), not by a health check.
    expect(stat!.check_status).to.equal('HANA');
    expect(seen.has(last)).to.equal(true);
    expect((await get(port, '/', `busy.${BASE}`)).body).to.match(new RegExp(`^${last} web\\.[12]$`));
    // One Heroku-style line per request came through the log ring.
    await waitFor('router lines', () => log.messages('busy', 'slipway', 'router').length > ok / 2, 5000);
    console.log(
      `      ${ok} requests through ${DEPLOYS} release switches on HAProxy, ${failures.length} failed; ` +
        `the refusing dyno got ${stat!.stot}, redispatched ${stat!.wredis}`,
    );
  });
});
