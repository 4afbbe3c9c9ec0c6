/**
 * The service spec of a swarm dyno (pure data, checked without an engine): one replica Swarm
 * never restarts (the dyno manager does), limits by size, its app's overlay with no VIP, the boot
 * script as root with only the capabilities it needs, and an environment that carries the
 * slug's token but whose SLIPWAY_ part the boot script removes before the app runs. And the
 * runtime's one stack: a slug built on another is refused before anything starts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynoSpec, isSlipwayError } from '@slipway/core';
import { expect } from 'chai';
import Docker from 'dockerode';
import { FsSlugStore } from '../state/fs-slug-store.js';
import { SwarmDynoRuntime } from './swarm-runtime.js';
import { BOOT, BOOT_CAPS, bootEnv, dynoServiceSpec, SLUG_CACHE_VOLUME } from './swarm-service.js';

const spec: DynoSpec = {
  app: 'shop',
  release: 7,
  type: 'web',
  index: 2,
  command: 'node server.js',
  env: { GREETING: 'hi' },
  slug: { checksum: `sha256:${'ab'.repeat(32)}`, size: 10 },
  size: { name: 'standard-2x', memoryMb: 1024 },
};

describe('swarm dyno service spec', () => {
  const env = bootEnv(spec, 'web.2', 31_000, 40_123, 'http://10.0.1.2:4000/slugs/x?exp=1&sig=y');
  const s = dynoServiceSpec({
    spec,
    name: 'slipway-shop-web-2',
    stackImage: 'sha256:1234',
    env,
    labels: { 'slipway.platform': 'p' },
    stopGraceMs: 3000,
    network: 'slipway-abcd1234-shop',
    constraints: ['node.id==n1'],
  });
  const task = s.TaskTemplate as any;

  it("is one replica on the chosen node that Swarm does not restart, on its app's overlay with no VIP", () => {
    expect(s.Mode).to.deep.equal({ Replicated: { Replicas: 1 } });
    expect(task.RestartPolicy).to.deep.equal({ Condition: 'none' });
    expect(task.Placement.Constraints).to.deep.equal(['node.id==n1']);
    expect(task.Networks).to.deep.equal([{ Target: 'slipway-abcd1234-shop' }]);
    expect(s.EndpointSpec).to.deep.equal({ Mode: 'dnsrr' });
  });

  it('limits memory to twice the quota and CPUs by size, and stops within the grace', () => {
    expect(task.Resources.Limits).to.deep.equal({ MemoryBytes: 2 * 1024 * 1024 * 1024, NanoCPUs: 2e9 });
    expect(task.ContainerSpec.StopGracePeriod).to.equal(3000 * 1e6);
  });

  it('boots as root with only the boot capabilities, from the image id, with the slug cache volume', () => {
    const c = task.ContainerSpec;
    expect(c.Image).to.equal('sha256:1234');
    expect(c.User).to.equal('0');
    expect(c.CapabilityDrop).to.deep.equal(['ALL']);
    expect(c.CapabilityAdd).to.deep.equal(BOOT_CAPS);
    expect(c.Mounts).to.deep.equal([
      { Type: 'volume', Source: SLUG_CACHE_VOLUME, Target: '/var/cache/slipway-slugs' },
    ]);
    expect(c.Args.slice(0, 5)).to.deep.equal(['bash', '-c', BOOT, 'slipway-boot', 'node server.js']);
  });

  it("hands the app its env, DYNO and PORT, and the boot script the slug's checksum, URL and uid", () => {
    expect(env).to.include({
      GREETING: 'hi',
      DYNO: 'web.2',
      PORT: '31000',
      HOME: '/app',
      SLIPWAY_UID: '40123',
    });
    expect(env.SLIPWAY_SLUG_SUM).to.equal('ab'.repeat(32));
    expect(BOOT).to.match(/unset SLIPWAY_UID SLIPWAY_SLUG_SUM SLIPWAY_SLUG_URL/);
    expect(BOOT)
      .to.match(/sha256sum -c/)
      .and.match(/--bounding-set=-all/);
  });
});

describe('swarm runtime and stacks', () => {
  it("refuses a slug built on another stack than its image's, with a coded error naming the fix", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-swarm-stack-'));
    try {
      // No engine is asked: the slug's stack is checked before the runtime starts anything.
      const rt = new SwarmDynoRuntime(
        { dataDir: dir, slugStore: new FsSlugStore(join(dir, 'slugs')) },
        new Docker({ socketPath: join(dir, 'no-engine.sock') }),
      );
      const other = { ...spec, slug: { ...spec.slug, stack: 'slipway-14' } };
      for (const start of [
        () => rt.start(other),
        () => rt.runOnce({ ...other, type: 'run', attach: false }),
      ]) {
        const e = await start().then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(isSlipwayError(e, 'SLIPWAY_ERR_STACK_SWARM_ONE_STACK'), String(e)).to.equal(true);
        expect(String((e as Error).message)).to.include('built on stack slipway-14');
        expect(String((e as { hint?: string }).hint)).to.include('slipway stack:set slipway-13 -a shop');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
