/**
 * The dyno manager's timers on a manual clock (core's `manualClock`), with real dynos: a crash
 * restart waits for its back-off and a web dyno that never binds $PORT fails its boot check
 * only when the test moves the clock, so Heroku's own delays (10 minutes, 60 seconds) are
 * tested as they are instead of being shrunk, and without waiting for them.
 */
import { isSlipwayError, manualClock, type SlugRef } from '@slipway/core';
import { expect } from 'chai';
import type { FsSlugStore } from '../state/fs-slug-store.js';
import { DynoManager, type DynoTarget } from './dyno-manager.js';
import {
  FIXTURE_TYPES,
  linesFromSigterm,
  MemoryLog,
  packSlug,
  r12Lines,
  tempDataDir,
  waitFor,
} from './dyno-test-kit.test-helper.js';
import { LocalDynoRuntime } from './local-runtime.js';

describe('DynoManager timers on a manual clock (real dynos)', function () {
  this.timeout(60_000);
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  let store: FsSlugStore;
  let slug: SlugRef;
  let runtime: LocalDynoRuntime;
  let manager: DynoManager;
  const log = new MemoryLog();
  const clock = manualClock();

  before(async () => {
    data = await tempDataDir();
    ({ store, slug } = await packSlug(data.dir));
    runtime = new LocalDynoRuntime({ dataDir: data.dir, slugStore: store });
    // Heroku's schedule as it is: no immediate restarts here, then 10 minutes; boot within 60 s.
    manager = new DynoManager({ runtime, log, clock, stopGraceMs: 500, backoff: { immediate: 0 } });
  });
  after(async () => {
    await manager?.close();
    await runtime?.close(500);
    await data?.cleanup();
  });

  const target = (
    types: Partial<Record<keyof typeof FIXTURE_TYPES, string>>,
    formation: DynoTarget['formation'],
  ): DynoTarget => ({
    release: 1,
    slug,
    env: { RELEASE_TAG: 'v1' },
    processTypes: { ...FIXTURE_TYPES, ...types },
    formation,
  });
  const starts = (app: string, dyno: string) =>
    log.messages(app, 'slipway', dyno).filter((m) => m.startsWith('Starting process')).length;

  it('restarts a crashed dyno only when its back-off has passed on the clock', async () => {
    await manager.apply('loop', target({}, { crash: { quantity: 1, size: 'standard-1x' } }));
    await waitFor('the first crash', () =>
      log.messages('loop', 'slipway', 'crash.1').includes('Crashed 1 times; restarting in 600 seconds')
        ? true
        : undefined,
    );
    // Real time passes; the clock does not: no restart.
    await new Promise((r) => setTimeout(r, 700));
    expect(starts('loop', 'crash.1')).to.equal(1);
    clock.advance(10 * 60_000 - 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(starts('loop', 'crash.1'), 'one ms early').to.equal(1);
    clock.advance(1);
    await waitFor('the restart', () => (starts('loop', 'crash.1') === 2 ? true : undefined), 20_000);
    expect(log.messages('loop', 'slipway', 'crash.1')).to.include('State changed from crashed to starting');
    await manager.stopApp('loop');
  });

  it('fails the boot check (R10) when 60 s pass on the clock, not before', async () => {
    const applied = manager
      .apply('slow', target({ web: FIXTURE_TYPES.nobind }, { web: { quantity: 1, size: 'standard-1x' } }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    await waitFor('the dyno to run', () =>
      log.messages('slow', 'app', 'web.1').includes('booting forever') ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(log.messages('slow', 'slipway', 'web.1').some((m) => m.includes('R10'))).to.equal(false);
    // The check sleeps on the clock between attempts: move it in 5 s steps, each after a real
    // moment for the connection attempt in between.
    const r10 = () => log.messages('slow', 'slipway', 'web.1').some((m) => m.includes('R10'));
    const step = async () => {
      clock.advance(5_000);
      await new Promise((r) => setTimeout(r, 30));
    };
    for (let i = 0; i < 11; i++) await step();
    expect(r10(), 'R10 after 55 s on the clock').to.equal(false);
    for (let i = 0; i < 40 && !r10(); i++) await step();
    const err = await applied;
    expect(isSlipwayError(err, 'SLIPWAY_ERR_DYNO_BOOT_TIMEOUT'), String(err)).to.equal(true);
    expect(log.messages('slow', 'slipway', 'web.1')).to.include(
      'Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 60 seconds of launch',
    );
    await manager.stopApp('slow');
  });
});

describe('R12 on a manual clock (a real dyno that ignores SIGTERM)', function () {
  this.timeout(60_000);
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  let runtime: LocalDynoRuntime;
  let manager: DynoManager;
  const log = new MemoryLog();
  const clock = manualClock();

  after(async () => {
    await manager?.close();
    await runtime?.close(0);
    await data?.cleanup();
  });

  it("SIGKILLs it once Heroku's 30 s grace has passed on the clock, not before", async () => {
    data = await tempDataDir();
    const { store, slug } = await packSlug(data.dir);
    runtime = new LocalDynoRuntime({ dataDir: data.dir, slugStore: store, clock });
    manager = new DynoManager({ runtime, log, clock, stopGraceMs: 30_000 });
    const ready = manager.apply('stubborn', {
      release: 1,
      slug,
      env: {},
      processTypes: { ...FIXTURE_TYPES, web: FIXTURE_TYPES.stubborn },
      formation: { web: { quantity: 1, size: 'standard-1x' } },
    });
    // The boot check sleeps on the clock between attempts: move it until the dyno is up.
    for (let i = 0; i < 400 && manager.status('stubborn')[0]?.state !== 'up'; i++) {
      clock.advance(100);
      await new Promise((r) => setTimeout(r, 10));
    }
    await ready;
    const stopped = manager.stopApp('stubborn');
    await waitFor('SIGTERM ignored', () =>
      log.messages('stubborn', 'app', 'web.1').includes('ignoring SIGTERM') ? true : undefined,
    );
    // Real time passes, the clock does not: the dyno lives on.
    await new Promise((r) => setTimeout(r, 500));
    expect(manager.status('stubborn').map((d) => d.state)).to.not.include('down');
    expect(log.messages('stubborn', 'slipway', 'web.1').some((m) => m.includes('R12'))).to.equal(false);
    clock.advance(29_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(log.messages('stubborn', 'slipway', 'web.1').some((m) => m.includes('R12'))).to.equal(false);
    clock.advance(1_000);
    await stopped;
    expect(linesFromSigterm(log, 'stubborn', 'web.1')).to.include.ordered.members(r12Lines('30'));
  });
});
