/**
 * Zero-downtime deploys through the HAProxy data plane: real dynos (the dyno manager over the
 * local runtime) behind `createHaproxyRouter`, ten release switches under continuous load,
 * not one failed request. The same drive as dyno-manager.test.ts's switch under load, with
 * more switches: every one adds servers over the stats socket, disables the old ones and
 * deletes them once drained.
 */
import { Kernel, type SlugRef } from '@slipway/core';
import { createHaproxyRouter, findHaproxy, type HaproxyRouter } from '@slipway/router';
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

  before(async function () {
    if (!(await findHaproxy())) {
      if (process.env.CI === 'true') throw new Error('haproxy is not installed (apt-get install haproxy)');
      console.warn('\n  !!! SKIPPED: the HAProxy deploy test needs haproxy (apt-get install haproxy)\n');
      this.skip();
    }
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
      table: { ...table, apps: () => ['busy'], domains: () => [] },
      baseDomain: BASE,
      log,
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

  it(`switches ${DEPLOYS} releases under continuous load without a failed request`, async () => {
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
    for (let release = 2; release <= DEPLOYS + 1; release++) await manager.apply('busy', target(release));
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
    expect(seen.has(last)).to.equal(true);
    expect((await get(port, '/', `busy.${BASE}`)).body).to.match(new RegExp(`^${last} web\\.[12]$`));
    // One Heroku-style line per request came through the log ring.
    await waitFor('router lines', () => log.messages('busy', 'slipway', 'router').length > ok / 2, 5000);
    console.log(
      `      ${ok} requests through ${DEPLOYS} release switches on HAProxy, ${failures.length} failed`,
    );
  });
});
