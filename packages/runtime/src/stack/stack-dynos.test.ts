/**
 * Dynos run in the stack their slug was built in, on both container-style runtimes: the same
 * slug as built in slipway-13 and as built in slipway-14 (`SlugRef.stack`) reads Debian trixie's
 * and Debian testing's `/etc/os-release` and C library, from one sandboxed local runtime and one
 * Docker runtime, each started for the default stack. A slug of a stack the engine lacks fails
 * with the coded error that says how to build it.
 */
import type { SlugRef } from '@slipway/core';
import { expect } from 'chai';
import { DockerDynoRuntime } from '../dynos/docker-runtime.js';
import { dockerUnavailable, removePlatformContainers } from '../dynos/docker-test-kit.test-helper.js';
import { packSlug, tempDataDir } from '../dynos/dyno-test-kit.test-helper.js';
import { LocalDynoRuntime } from '../dynos/local-runtime.js';
import type { FsSlugStore } from '../state/fs-slug-store.js';
import { stackBuilt } from './app-stacks.js';

const size = { name: 'standard-1x', memoryMb: 512 };
/** What a one-off prints: the Debian release and the C library of the root it runs in. */
const PROBE = '. /etc/os-release; echo "$VERSION_CODENAME"; getconf GNU_LIBC_VERSION; echo "STACK=$STACK"';

type Runtime = Pick<LocalDynoRuntime, 'runOnce'>;

describe("dynos run in their slug's stack (sandboxed local and Docker runtimes)", function () {
  this.timeout(240_000);
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  let store: FsSlugStore;
  let slug: SlugRef;
  const closers: (() => Promise<void>)[] = [];

  before(async function () {
    const missing = [
      ...((await stackBuilt('slipway-13')) ? [] : ['stack slipway-13']),
      ...((await stackBuilt('slipway-14')) ? [] : ['stack slipway-14']),
    ];
    if (missing.length) {
      const why = `needs ${missing.join(', ')} (scripts/stack-setup slipway-13 slipway-14)`;
      if (process.env.CI === 'true') throw new Error(why);
      console.warn(`      SKIPPED: ${why}`);
      this.skip();
    }
    data = await tempDataDir('slipway-stack-dynos-');
    ({ store, slug } = await packSlug(data.dir));
  });
  after(async () => {
    for (const close of closers) await close();
    if (data) await removePlatformContainers(data.dir);
    await data?.cleanup();
  });

  /** One attached one-off of `slug` in `stack`: its exit code and output. */
  const probe = async (rt: Runtime, stack: string | undefined, app: string) => {
    const s = await rt.runOnce({
      app,
      release: 1,
      type: 'run',
      command: PROBE,
      env: {},
      size,
      slug: { ...slug, ...(stack ? { stack } : {}) },
      attach: true,
    });
    let out = '';
    s.stdout.on('data', (c) => (out += c));
    s.stderr?.on('data', (c) => (out += c));
    return { code: await s.exited, out: out.replace(/\r/g, '').trim() };
  };
  const expectStacks = async (rt: Runtime, app: string) => {
    expect(await probe(rt, undefined, app)).to.deep.include({ code: 0 });
    const thirteen = await probe(rt, 'slipway-13', app);
    expect(thirteen.out).to.match(/^trixie\nglibc 2\.41\nSTACK=slipway-13$/);
    const fourteen = await probe(rt, 'slipway-14', app);
    expect(fourteen.code, fourteen.out).to.equal(0);
    expect(fourteen.out).to.match(/^forky\nglibc 2\.(4[2-9]|[5-9]\d)\nSTACK=slipway-14$/);
  };

  it('sandboxed local runtime', async function () {
    const rt = new LocalDynoRuntime({ dataDir: data.dir, slugStore: store, sandbox: true });
    closers.push(() => rt.close(1000));
    await rt.init();
    if (!rt.sandbox) {
      if (process.env.CI === 'true') throw new Error(`CI must sandbox dynos: ${rt.warnings.join('; ')}`);
      console.warn(`      SKIPPED: ${rt.warnings.join('; ')}`);
      this.skip();
    }
    await expectStacks(rt, 'sb-stacks');
    const none = await probe(rt, 'slipway-99', 'sb-stacks').catch((e) => e);
    expect(none.code).to.equal('SLIPWAY_ERR_STACK_NO_SANDBOX');
  });

  it('Docker runtime', async function () {
    const why = await dockerUnavailable();
    if (why) {
      if (process.env.CI === 'true') throw new Error(why);
      console.warn(`      SKIPPED: ${why}`);
      this.skip();
    }
    const rt = await DockerDynoRuntime.create({ dataDir: data.dir, slugStore: store });
    closers.push(() => rt.close(0));
    await expectStacks(rt, 'dk-stacks');
    const none = await probe(rt, 'slipway-99', 'dk-stacks').catch((e) => e);
    expect(none.code).to.equal('SLIPWAY_ERR_STACK_NO_IMAGE');
    expect(none.hint).to.include('stack:build slipway-99');
  });
});
