// Over 400 lines: the cases share one runtime, router and slug, set up once.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSlipwayError, Kernel, type SlugRef } from '@slipway/core';
import { createRouter, type Router } from '@slipway/router';
import { expect } from 'chai';
import type { FsSlugStore } from '../state/fs-slug-store.js';
import { DynoManager, type DynoTarget } from './dyno-manager.js';
import {
  FIXTURE_TYPES,
  get,
  linesFromSigterm,
  MemoryLog,
  packSlug,
  r12Lines,
  tempDataDir,
  waitFor,
} from './dyno-test-kit.test-helper.js';
import { LocalDynoRuntime } from './local-runtime.js';

const BASE = 'slipway.test';

describe('DynoManager (real dynos, real HTTP through @slipway/router)', function () {
  this.timeout(60_000);
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  let store: FsSlugStore;
  let slug: SlugRef;
  let runtime: LocalDynoRuntime;
  let manager: DynoManager;
  let router: Router;
  let port: number;
  const log = new MemoryLog();
  const kernel = new Kernel();
  const hookEvents: string[] = [];

  before(async () => {
    data = await tempDataDir();
    ({ store, slug } = await packSlug(data.dir));
    runtime = new LocalDynoRuntime({ dataDir: data.dir, slugStore: store, memoryPollMs: 100 });
    kernel.hooks.dynoStart.tap('test', (e) => {
      hookEvents.push(`start ${e.app} ${e.dyno} v${e.release}`);
    });
    kernel.hooks.dynoExit.tap('test', (e) => {
      hookEvents.push(`exit ${e.app} ${e.dyno} v${e.release} expected=${e.expected}`);
    });
    manager = new DynoManager({
      kernel,
      runtime,
      log,
      bootTimeoutMs: 4000,
      stopGraceMs: 800,
      switchDelayMs: 300,
      backoff: { immediate: 2, firstMs: 400, factor: 2, maxMs: 5000 },
      sizes: { 'standard-1x': 512, tiny: 64 },
      memoryLogEveryMs: 60_000,
    });
    router = createRouter({ table: manager.routeTable(), baseDomain: BASE });
    port = (await router.listen(0, '127.0.0.1')).port;
  });
  after(async () => {
    await manager?.close();
    await router?.close(100);
    await runtime?.close(500);
    await data?.cleanup();
  });

  const target = (
    release: number,
    over: Partial<DynoTarget> = {},
    env: Record<string, string> = {},
  ): DynoTarget => ({
    release,
    slug,
    env: { RELEASE_TAG: `v${release}`, ...env },
    processTypes: { ...FIXTURE_TYPES },
    formation: { web: { quantity: 1, size: 'standard-1x' } },
    ...over,
  });
  const via = (app: string, path = '/') => get(port, path, `${app}.${BASE}`);

  it('boots a web dyno, routes to it once up, and logs Heroku-style lines', async () => {
    const applied = manager.apply(
      'hello',
      target(1, { formation: { web: { quantity: 2, size: 'standard-1x' } } }),
    );
    await waitFor('booting route', () => manager.routeTable().route('hello')?.state === 'booting', 5000, 5);
    await applied;
    expect(manager.routeTable().route('hello')!.state).to.equal('ok');
    const bodies = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await via('hello');
      expect(r.status).to.equal(200);
      bodies.add(r.body);
    }
    expect([...bodies].sort()).to.deep.equal(['v1 web.1', 'v1 web.2']);
    expect(
      manager
        .status('hello')
        .map((d) => `${d.type}.${d.index}:${d.state}`)
        .sort(),
    ).to.deep.equal(['web.1:up', 'web.2:up']);
    expect(log.messages('hello', 'slipway', 'web.1')).to.include.members([
      'Starting process with command `node server.js`',
      'State changed from starting to up',
    ]);
    expect(log.messages('hello', 'app', 'web.1').some((m) => m.startsWith('listening on'))).to.equal(true);
    expect(hookEvents).to.include('start hello web.1 v1');
    expect(manager.routeTable().route('nope')).to.equal(undefined);
    expect(manager.routeTable().appForHost(`hello.${BASE}`)).to.equal('hello');
  });

  it('scales up and down within a release', async () => {
    await manager.apply('hello', target(1, { formation: { web: { quantity: 3, size: 'standard-1x' } } }));
    expect(
      manager
        .routeTable()
        .route('hello')!
        .targets.map((t) => t.dyno)
        .sort(),
    ).to.deep.equal(['web.1', 'web.2', 'web.3']);
    let stop = false;
    const failures: string[] = [];
    const probes = Array.from({ length: 6 }, async () => {
      while (!stop) {
        const r = await via('hello', '/slow').catch((e: Error) => ({ status: 0, body: e.message }));
        if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
      }
    });
    await new Promise((r) => setTimeout(r, 200));
    await manager.apply('hello', target(1, { formation: { web: { quantity: 1, size: 'standard-1x' } } }));
    expect(
      manager
        .routeTable()
        .route('hello')!
        .targets.map((t) => t.dyno),
    ).to.deep.equal(['web.1']);
    await waitFor('web.2, web.3 gone', () => manager.status('hello').length === 1);
    stop = true;
    await Promise.all(probes);
    expect(failures, 'requests failed while scaling down').to.deep.equal([]);
    expect((await via('hello')).body).to.equal('v1 web.1');
    await manager.apply('hello', target(1, { formation: { web: { quantity: 0, size: 'standard-1x' } } }));
    expect(manager.routeTable().route('hello')!.state).to.equal('no-web');
    await manager.stopApp('hello');
    expect(manager.routeTable().route('hello')).to.equal(undefined);
    // Stop and start queued back to back: the app comes back.
    void manager.stopApp('hello');
    await manager.apply('hello', target(1));
    expect((await via('hello')).body).to.equal('v1 web.1');
    await manager.stopApp('hello');
  });

  it('replaces dynos on restart and on a size change, web without a gap in service', async () => {
    await manager.apply('resize', target(1, { formation: { web: { quantity: 1, size: 'standard-1x' } } }));
    const ids = () =>
      manager
        .status('resize')
        .filter((d) => d.state === 'up')
        .map((d) => d.id);
    const first = ids();
    await manager.restart('resize', 'web');
    expect((await via('resize')).status).to.equal(200);
    await waitFor('restarted', () => ids().length === 1 && ids()[0] !== first[0]);
    const second = ids();
    await manager.apply('resize', target(1, { formation: { web: { quantity: 1, size: 'tiny' } } }));
    expect((await via('resize')).body).to.equal('v1 web.1');
    await waitFor('resized', () => ids().length === 1 && ids()[0] !== second[0]);
    await manager.stopApp('resize');
  });

  it('switches releases under continuous load without a failed request', async () => {
    await manager.apply('busy', target(1, { formation: { web: { quantity: 2, size: 'standard-1x' } } }));
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    const worker = async (_: unknown, i: number) => {
      while (!stop) {
        try {
          const r = await via('busy', i % 2 ? '/slow' : '/');
          if (r.status === 200) {
            ok++;
            seen.add(r.body.split(' ')[0]!);
          } else failures.push(`${r.status} ${r.body.slice(0, 80)}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    };
    const load = Array.from({ length: 16 }, worker);
    await new Promise((r) => setTimeout(r, 300));
    await manager.apply('busy', target(2, { formation: { web: { quantity: 2, size: 'standard-1x' } } }));
    await manager.apply('busy', target(3, { formation: { web: { quantity: 2, size: 'standard-1x' } } }));
    await waitFor('old dynos to exit', () => manager.status('busy').every((d) => d.release === 3), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(load);
    expect(failures, failures.slice(0, 5).join('; ')).to.deep.equal([]);
    expect(ok).to.be.greaterThan(50);
    expect([...seen].sort()).to.deep.equal(['v1', 'v2', 'v3']);
    expect((await via('busy')).body).to.match(/^v3 web\.[12]$/);
    expect(log.messages('busy', 'slipway')).to.include('Stopping all processes with SIGTERM');
    expect(log.messages('busy', 'app')).to.include('SIGTERM received, draining');
    expect(hookEvents).to.include('exit busy web.1 v1 expected=true');
    console.log(`      ${ok} requests through two release switches, ${failures.length} failed`);
  });

  it('stops the old web dynos, and says the release is applied, only once every data plane that pushes serves the switch', async () => {
    // A data plane that pushes (HAProxy) answers the change with a promise of applying it.
    let gate: Promise<void> | undefined;
    let open = () => {};
    manager.routeTable().onChange?.(() => gate);
    await manager.apply('gated', target(1));
    gate = new Promise<void>((r) => {
      open = r;
    });
    let applied = false;
    const switched = manager.apply('gated', target(2)).then(() => {
      applied = true;
    });
    await waitFor('the new dyno up', () =>
      manager.status('gated').some((d) => d.release === 2 && d.state === 'up'),
    );
    // Well past the switch delay (300 ms): the old dyno is still up while a data plane may send
    // to it, and the release is not reported applied.
    await new Promise((r) => setTimeout(r, 1200));
    expect(manager.status('gated').map((d) => `v${d.release} ${d.state}`)).to.include('v1 up');
    expect(applied).to.equal(false);
    gate = undefined;
    open();
    await switched;
    await waitFor(
      'the old dyno stopped',
      () => manager.status('gated').every((d) => d.release === 2),
      10_000,
    );
    await manager.stopApp('gated');
  });

  it('keeps the old release serving when new web dynos never bind $PORT (R10)', async () => {
    await manager.apply('stay', target(1));
    const failures: string[] = [];
    let stop = false;
    const probe = (async () => {
      while (!stop) {
        const r = await via('stay').catch((e: Error) => ({ status: 0, body: e.message }));
        if (r.status !== 200 || r.body !== 'v1 web.1') failures.push(`${r.status} ${r.body}`);
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    const bad = target(2, { processTypes: { ...FIXTURE_TYPES, web: FIXTURE_TYPES.nobind } });
    const t0 = Date.now();
    const err = await manager.apply('stay', bad).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSlipwayError(err, 'SLIPWAY_ERR_DYNO_BOOT_TIMEOUT'), String(err)).to.equal(true);
    expect(Date.now() - t0).to.be.within(3900, 15_000);
    expect(log.messages('stay', 'slipway', 'web.1')).to.include(
      'Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 4 seconds of launch',
    );
    expect(log.messages('stay', 'app', 'web.1')).to.include('booting forever');
    stop = true;
    await probe;
    expect(failures).to.deep.equal([]);
    expect(manager.status('stay').map((d) => `${d.release}:${d.state}`)).to.deep.equal(['1:up']);
    await manager.stopApp('stay');
  });

  it('refuses a release whose healthcheck path does not answer 2xx; the old one serves on', async () => {
    await manager.apply('health', target(1, { healthcheck: { path: '/health' } }));
    const err = await manager
      .apply(
        'health',
        target(2, { healthcheck: { path: '/health', timeoutMs: 800 } }, { HEALTH_STATUS: '503' }),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isSlipwayError(err, 'SLIPWAY_ERR_DYNO_HEALTHCHECK'), String(err)).to.equal(true);
    expect((await via('health')).body).to.equal('v1 web.1');
    await manager.stopApp('health');
  });

  it('SIGKILLs a dyno that ignores SIGTERM after the grace period (R12)', async () => {
    await manager.apply(
      'stubborn',
      target(1, { processTypes: { ...FIXTURE_TYPES, web: FIXTURE_TYPES.stubborn } }),
    );
    expect((await via('stubborn')).body).to.equal('stubborn');
    const t0 = Date.now();
    await manager.stopApp('stubborn');
    expect(Date.now() - t0).to.be.within(700, 5000);
    expect(linesFromSigterm(log, 'stubborn', 'web.1')).to.include.ordered.members(r12Lines('0.8'));
    expect(log.messages('stubborn', 'app', 'web.1')).to.include('ignoring SIGTERM');
  });

  it('restarts a crash loop on the back-off schedule while another app keeps serving', async () => {
    await manager.apply('steady', target(1));
    const crashTarget = (release: number) =>
      target(release, { formation: { crash: { quantity: 1, size: 'standard-1x' } } });
    let stop = false;
    let served = 0;
    const failures: string[] = [];
    const probe = (async () => {
      while (!stop) {
        const r = await via('steady').catch((e: Error) => ({ status: 0, body: e.message }));
        if (r.status === 200) served++;
        else failures.push(`${r.status} ${r.body}`);
      }
    })();
    // Restart delays as the manager took them: from a crash's exit line to the next start line
    // (process start-up time, which a loaded machine stretches, is not part of the schedule).
    const delays = () => {
      const out: number[] = [];
      let exitAt: number | undefined;
      for (const l of log.lines) {
        if (l.app !== 'loop' || l.source !== 'slipway' || l.dyno !== 'crash.1') continue;
        if (l.message === 'Process exited with status 3') exitAt = l.time;
        else if (l.message.startsWith('Starting process') && exitAt !== undefined) {
          out.push(l.time - exitAt);
          exitAt = undefined;
        }
      }
      return out;
    };
    await manager.apply('loop', crashTarget(1));
    // Crashes 1 and 2 restart at once; crash 3 waits 400 ms, crash 4 waits 800 ms.
    const gaps = await waitFor('four restarts', () => (delays().length >= 4 ? delays() : undefined), 30_000);
    expect(gaps[0], String(gaps)).to.be.below(300);
    expect(gaps[1], String(gaps)).to.be.below(300);
    expect(gaps[2]).to.be.within(390, 1000);
    expect(gaps[3]).to.be.within(790, 1500);
    const msgs = log.messages('loop', 'slipway', 'crash.1');
    expect(msgs).to.include.members([
      'State changed from up to crashed',
      'Process exited with status 3',
      'Crashed 3 times; restarting in 0.4 seconds',
      'Crashed 4 times; restarting in 0.8 seconds',
      'State changed from crashed to starting',
    ]);
    expect(
      log.messages('loop', 'app', 'crash.1').filter((m) => m.startsWith('crashing at')).length,
    ).to.be.at.least(4);
    // A new release resets the schedule: two immediate restarts again, then the first cool-off.
    const t2 = Date.now();
    await manager.apply('loop', crashTarget(2));
    const v2 = () => log.lines.filter((l) => l.app === 'loop' && l.dyno === 'crash.1' && l.time >= t2);
    const firstCoolOff = await waitFor(
      'the first cool-off of v2',
      () => v2().find((l) => l.message.startsWith('Crashed ')),
      20_000,
    );
    expect(firstCoolOff.message).to.equal('Crashed 3 times; restarting in 0.4 seconds');
    const immediate = v2().filter(
      (l) => l.message === 'State changed from crashed to starting' && l.time <= firstCoolOff.time,
    );
    expect(immediate).to.have.length(2);
    await manager.stopApp('loop');
    stop = true;
    await probe;
    expect(failures).to.deep.equal([]);
    expect(served).to.be.greaterThan(20);
    console.log(
      `      restart delays ${gaps.join(', ')} ms; ${served} requests to another app served meanwhile`,
    );
    await manager.stopApp('steady');
  });

  it('logs R14 above the memory quota and R15 when the dyno is killed at twice it', async () => {
    await manager.apply(
      'hog',
      target(1, { formation: { hog: { quantity: 1, size: 'tiny' } } }, { HOG_MB: '512', HOG_STEP_MS: '150' }),
    );
    await waitFor(
      'R15',
      () => log.messages('hog', 'slipway', 'hog.1').includes('Error R15 (Memory quota vastly exceeded)'),
      20_000,
    );
    const msgs = log.messages('hog', 'slipway', 'hog.1');
    expect(msgs).to.include('Error R14 (Memory quota exceeded)');
    expect(msgs.some((m) => /^Process running mem=\d+M\(\d+\.\d%\)$/.test(m))).to.equal(true);
    expect(msgs.indexOf('Error R14 (Memory quota exceeded)')).to.be.below(
      msgs.indexOf('Error R15 (Memory quota vastly exceeded)'),
    );
    await manager.stopApp('hog');
  });

  it('runs one-off dynos (run.N) that are never restarted and logs their exit', async () => {
    await manager.apply('ones', target(1, { formation: {} }));
    const s = await manager.runOnce('ones', {
      release: 1,
      type: 'run',
      command: 'echo "I am $DYNO"; exit 5',
      env: {},
      size: { name: 'standard-1x', memoryMb: 512 },
      slug,
      attach: false,
    });
    expect(await s.exited).to.equal(5);
    const dyno = `run.${s.handle.index}`;
    await waitFor('exit logged', () =>
      log.messages('ones', 'slipway', dyno).includes('State changed from up to complete'),
    );
    expect(log.messages('ones', 'app', dyno)).to.deep.equal([`I am ${dyno}`]);
    expect(log.messages('ones', 'slipway', dyno)).to.include('Process exited with status 5');
    await new Promise((r) => setTimeout(r, 200));
    expect(manager.status('ones')).to.deep.equal([]);
    await manager.stopApp('ones');
  });

  // Issue 11 (5): one app killing another's dyno three times in five seconds put it into a
  // ten-minute cool-off. A kill from outside is not the dyno's crash: it restarts after a short
  // fixed delay and the crash count stays where it was.
  it('does not count kills from outside the dyno toward the crash back-off', async () => {
    await manager.apply('victim', target(1));
    for (let i = 0; i < 4; i++) {
      const up = await waitFor('victim up', () =>
        manager.status('victim').find((d) => d.type === 'web' && d.state === 'up'),
      );
      // The runtime records each dyno under its runtime dir (recorded in the data dir).
      const root = (await readFile(join(data.dir, 'runtime-dir'), 'utf8').catch(() => data.dir)).trim();
      const rec = JSON.parse(
        await readFile(join(root, 'apps', 'victim', 'dynos', up.id, 'dyno.json'), 'utf8'),
      );
      process.kill(rec.pid, 'SIGKILL'); // the web process only, as another uid's process would
      await waitFor('the kill seen', () => !manager.status('victim').some((d) => d.id === up.id));
    }
    await waitFor('victim up again', async () => (await via('victim')).status === 200, 20_000);
    const msgs = log.messages('victim', 'slipway', 'web.1');
    expect(msgs.filter((m) => m.startsWith('Killed by a signal from outside the dyno'))).to.have.length(4);
    expect(msgs.filter((m) => m.startsWith('Crashed'))).to.deep.equal([]);
    await manager.stopApp('victim');
  });
});
