import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSlipwayError, Kernel } from '@slipway/core';
import { expect } from 'chai';
import { defineBuildpack } from './define-buildpack.js';
import { testBuildpack } from './harness.js';
import { fixture } from './test-helpers.test.js';
import type { BuildpackDefinition } from './types.js';

/** A small static-site buildpack that records the order its hooks ran in. */
function staticBuildpack(calls: string[]): BuildpackDefinition {
  return {
    id: 'static',
    name: 'Static site',
    async detect(ctx) {
      calls.push('detect');
      return (await ctx.exists('index.html'))
        ? { detected: true }
        : { detected: false, reason: 'no index.html at the root' };
    },
    async compile(ctx) {
      calls.push('compile');
      ctx.log.step('Writing the server');
      await ctx.run('bash', ['-c', 'printf "%s\\n" served > "$1"', 'bash', join(ctx.buildDir, 'served.txt')]);
    },
    release() {
      calls.push('release');
      return { processTypes: { web: 'python3 -m http.server $PORT' }, configVars: { STATIC: '1' } };
    },
  };
}

describe('defineBuildpack', () => {
  it('runs detect, compile and release in order through the real pipeline', async () => {
    const calls: string[] = [];
    const r = await testBuildpack(staticBuildpack(calls), fixture('static'));
    try {
      expect(calls).to.deep.equal(['detect', 'compile', 'release']);
      expect(r.detected).to.equal(true);
      expect(r.buildpacks).to.deep.equal(['static']);
      expect(r.processTypes).to.deep.equal({ web: 'python3 -m http.server $PORT' });
      expect(r.result?.configDefaults).to.deep.equal({ STATIC: '1' });
      expect(await readFile(join(r.buildDir!, 'served.txt'), 'utf8')).to.equal('served\n');
      const detected = r.log.indexOf('-----> Static site app detected');
      const step = r.log.indexOf('-----> Writing the server');
      expect(detected).to.be.greaterThan(-1);
      expect(step).to.be.greaterThan(detected);
    } finally {
      await r.cleanup();
    }
  });

  it('registers the buildpack in the catalogue under its id', async () => {
    const kernel = new Kernel();
    await kernel.use(defineBuildpack(staticBuildpack([]), { name: '@acme/buildpack-static', source: 'npm' }));
    expect(kernel.catalog.buildpacks.get('static')).to.deep.equal({
      id: 'static',
      name: 'Static site',
      plugin: '@acme/buildpack-static',
      source: 'npm',
    });
    expect(kernel.plugins).to.deep.equal(['@acme/buildpack-static']);
  });

  it('refuses a second buildpack with the same id', async () => {
    const kernel = new Kernel();
    await kernel.use(defineBuildpack(staticBuildpack([])));
    const err = await kernel.use(defineBuildpack(staticBuildpack([]), { name: 'other' })).catch((e) => e);
    expect(isSlipwayError(err, 'SLIPWAY_ERR_BUILDPACK_DUPLICATE')).to.equal(true);
  });

  it('rejects an invalid definition when it is defined, naming the field', () => {
    const bad = { ...staticBuildpack([]), id: 'Not Valid' };
    expect(() => defineBuildpack(bad)).to.throw(/"id" must be lower-case/);
    const noCompile = { ...staticBuildpack([]), compile: undefined } as unknown as BuildpackDefinition;
    try {
      defineBuildpack(noCompile);
      expect.fail('should throw');
    } catch (e) {
      expect(isSlipwayError(e, 'SLIPWAY_ERR_BUILDPACK_DEFINITION')).to.equal(true);
    }
  });

  it('passes a fixture it does not claim, with its reason when pinned', async () => {
    const r = await testBuildpack(staticBuildpack([]), fixture('plain'), { pin: true });
    expect(r.detected).to.equal(false);
    expect(r.reason).to.equal('no index.html at the root');
    expect(r.error?.code).to.equal('SLIPWAY_ERR_BUILD_DETECT_PINNED');
    await r.cleanup();
    const auto = await testBuildpack(staticBuildpack([]), fixture('plain'));
    expect(auto.detected).to.equal(false);
    expect(auto.reason).to.equal('no index.html at the root');
    expect(auto.error?.code).to.equal('SLIPWAY_ERR_BUILD_DETECT_NONE');
    await auto.cleanup();
  });

  it('answers only when pinned to itself or not pinned at all', async () => {
    const calls: string[] = [];
    const other: BuildpackDefinition = {
      id: 'other',
      name: 'Other',
      stage: -100,
      detect: () => ({ detected: true }),
      compile: () => {},
      release: () => ({ processTypes: { web: 'other' } }),
    };
    // Pinned to "static": "other" runs at an earlier stage yet must not answer.
    const r = await testBuildpack(staticBuildpack(calls), fixture('static'), { plugins: [other], pin: true });
    expect(r.buildpacks).to.deep.equal(['static']);
    expect(r.processTypes.web).to.equal('python3 -m http.server $PORT');
    await r.cleanup();
  });

  it("lets a later buildpack's process types win and keeps earlier ones", async () => {
    const first: BuildpackDefinition = {
      id: 'first',
      name: 'First',
      detect: () => ({ detected: true }),
      compile: () => {},
      release: () => ({ processTypes: { web: 'first-web', worker: 'first-worker' }, addons: ['redis:mini'] }),
    };
    const r = await testBuildpack(staticBuildpack([]), fixture('static'), {
      plugins: [first],
      buildpacks: ['first', 'static'],
    });
    expect(r.processTypes).to.deep.equal({ web: 'python3 -m http.server $PORT', worker: 'first-worker' });
    expect(r.result?.addons).to.deep.equal(['redis:mini']);
    await r.cleanup();
  });

  it('shows errors thrown in a buildpack as [buildpack id] with the hook', async () => {
    const boom: BuildpackDefinition = {
      id: 'boom',
      name: 'Boom',
      detect: () => ({ detected: true }),
      compile: () => {
        throw new Error('kaboom');
      },
    };
    const err = await testBuildpack(boom, fixture('static')).catch((e) => e);
    expect(isSlipwayError(err, 'SLIPWAY_ERR_BUILDPACK_FAILED')).to.equal(true);
    expect(err.describe()).to.match(/^\[buildpack boom\] compile failed: kaboom\n {2}→ /);
  });

  it("fails with the author's message and hint from ctx.fail", async () => {
    const failing: BuildpackDefinition = {
      id: 'picky',
      name: 'Picky',
      detect: () => ({ detected: true }),
      compile: (ctx) => ctx.fail('no lockfile found', 'run npm install and commit package-lock.json'),
    };
    const lines: string[] = [];
    const err = await testBuildpack(failing, fixture('static'), { onLine: (l) => lines.push(l) }).catch(
      (e) => e,
    );
    expect(err.code).to.equal('SLIPWAY_ERR_BUILDPACK_FAIL');
    expect(err.describe()).to.equal(
      '[buildpack picky] no lockfile found\n  → run npm install and commit package-lock.json',
    );
    expect(lines.at(-1)).to.equal(' !     Build failed: [buildpack picky] no lockfile found');
  });

  it('wraps a throwing detect with the buildpack id', async () => {
    const bad: BuildpackDefinition = {
      id: 'badjson',
      name: 'Bad JSON',
      detect: async (ctx) =>
        (await ctx.readJson('index.html')) ? { detected: true } : { detected: false, reason: 'x' },
      compile: () => {},
    };
    const err = await testBuildpack(bad, fixture('static')).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_BUILDPACK_JSON');
    expect(err.describe()).to.match(/^\[buildpack badjson\] index.html is not valid JSON/);
  });
});
