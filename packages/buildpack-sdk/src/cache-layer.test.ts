import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openCacheLayer } from './cache-layer.js';
import { testBuildpack } from './harness.js';
import { fixture } from './test-helpers.test.js';
import type { BuildpackDefinition } from './types.js';

describe('cache layers', () => {
  let cache: string;
  beforeEach(async () => {
    cache = await mkdtemp(join(tmpdir(), 'slipway-cache-'));
  });
  afterEach(async () => {
    await rm(cache, { recursive: true, force: true });
  });

  it('misses first, hits after save with the same digest, keeping contents and metadata', async () => {
    const first = await openCacheLayer(cache, 'node_modules', 'node-20.1|lock-abc');
    expect(first.hit).to.equal(false);
    await writeFile(join(first.dir, 'dep.js'), 'cached');
    await first.save({ node: '20.1' });
    const second = await openCacheLayer(cache, 'node_modules', 'node-20.1|lock-abc');
    expect(second.hit).to.equal(true);
    expect(second.metadata).to.deep.equal({ node: '20.1' });
    expect(first.previous).to.equal(undefined);
    expect(second.previous).to.equal(undefined);
    expect(await readFile(join(second.dir, 'dep.js'), 'utf8')).to.equal('cached');
  });

  it('empties the layer when the digest changes (version bump, lockfile change)', async () => {
    const a = await openCacheLayer(cache, 'deps', 'v1');
    await writeFile(join(a.dir, 'old.txt'), 'stale');
    await a.save();
    const b = await openCacheLayer(cache, 'deps', 'v2');
    expect(b.hit).to.equal(false);
    expect(b.metadata).to.deep.equal({});
    expect(b.previous).to.deep.equal({ digest: 'v1', metadata: {} });
    expect(await readFile(join(b.dir, 'old.txt')).catch((e) => e.code)).to.equal('ENOENT');
    // Not saved under v2: going back to v1 must not resurrect the emptied contents either.
    const c = await openCacheLayer(cache, 'deps', 'v1');
    expect(c.hit).to.equal(false);
  });

  it('tells a miss why: the previous digest and metadata', async () => {
    const a = await openCacheLayer(cache, 'cargo', 'rustc-1.80|lock-aaa');
    await a.save({ rustc: '1.80', lock: 'aaa' });
    const b = await openCacheLayer(cache, 'cargo', 'rustc-1.80|lock-bbb');
    expect(b.hit).to.equal(false);
    expect(b.previous).to.deep.equal({
      digest: 'rustc-1.80|lock-aaa',
      metadata: { rustc: '1.80', lock: 'aaa' },
    });
    // The record is dropped on a miss: a second miss in a row has nothing to compare with.
    const c = await openCacheLayer(cache, 'cargo', 'rustc-1.80|lock-ccc');
    expect(c.previous).to.equal(undefined);
  });

  it('is a miss when the previous build filled the layer but never saved it', async () => {
    const a = await openCacheLayer(cache, 'deps', 'v1');
    await writeFile(join(a.dir, 'half.txt'), 'interrupted');
    const b = await openCacheLayer(cache, 'deps', 'v1');
    expect(b.hit).to.equal(false);
  });

  it('refuses names that would escape the cache dir', async () => {
    const err = await openCacheLayer(cache, '../etc', 'x').catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_BUILDPACK_NAME');
  });

  it('hits across two real builds sharing a cache dir, and misses when the lockfile changes', async () => {
    const runs: boolean[] = [];
    const bp: BuildpackDefinition = {
      id: 'deps',
      name: 'Deps',
      detect: () => ({ detected: true }),
      async compile(ctx) {
        const lock = (await ctx.readText('index.html')) ?? '';
        const layer = await ctx.cacheLayer('deps', `lock:${lock.length}:${ctx.env.LOCK_VERSION ?? ''}`);
        runs.push(layer.hit);
        if (!layer.hit) {
          await ctx.run('bash', ['-c', 'echo installed > "$1/marker"', 'bash', layer.dir]);
          await layer.save();
        }
        await ctx.run('cp', [join(layer.dir, 'marker'), join(ctx.buildDir, 'marker')]);
      },
    };
    for (const env of [{}, {}, { LOCK_VERSION: '2' }] as Record<string, string>[]) {
      const r = await testBuildpack(bp, fixture('static'), { cacheDir: cache, env });
      expect(await readFile(join(r.buildDir!, 'marker'), 'utf8')).to.equal('installed\n');
      await r.cleanup();
    }
    expect(runs).to.deep.equal([false, true, false]);
  });
});
