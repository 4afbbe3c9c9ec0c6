/**
 * Yarn and pnpm apps, through corepack: the pinned version is fetched from the npm registry,
 * dependencies installed from the lockfile, dev dependencies pruned, and the slug runs.
 */
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startSlug, testBuildpack } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import nodejs from './index.js';

const fixture = (name: string) => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/**
 * Corepack 0.34 (Node 20's) cannot verify the signatures the npm registry now serves; the app's
 * config var COREPACK_INTEGRITY_KEYS=0 is the documented way round it, and what these tests use.
 */
const COREPACK_ENV = { COREPACK_INTEGRITY_KEYS: '0' };

async function corepackAvailable(): Promise<boolean> {
  try {
    await promisify(execFile)('corepack', ['--version']);
    return true;
  } catch {
    return false;
  }
}

for (const pm of ['pnpm', 'yarn'] as const) {
  describe(`nodejs buildpack: ${pm} app through corepack`, function () {
    this.timeout(180_000);
    let work: string;
    before(async function () {
      if (!(await corepackAvailable())) {
        if (process.env.CI === 'true')
          throw new Error('corepack is not installed (it ships with Node.js 20)');
        console.warn(`SKIPPED: ${pm} tests need corepack on PATH (it ships with Node.js 20)`);
        this.skip();
      }
      work = await mkdtemp(join(tmpdir(), `slipway-nodejs-${pm}-`));
    });
    after(async () => {
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('installs with the pinned version, prunes dev dependencies, and the slug serves /health', async () => {
      const slug = join(work, 'slug.tgz');
      const cacheDir = join(work, 'cache');
      const r = await testBuildpack(nodejs, fixture(`${pm}-app`), {
        cacheDir,
        output: slug,
        env: COREPACK_ENV,
      });
      const text = r.log.join('\n');
      await r.cleanup();
      expect(text).to.match(new RegExp(`Using ${pm} \\d+\\.\\d+\\.\\d+ \\(via corepack\\)`));
      expect(text).to.include(`from ${pm === 'pnpm' ? 'pnpm-lock.yaml' : 'yarn.lock'}`);
      expect(r.processTypes.web).to.equal('npm start');
      const web = await startSlug(slug, r.processTypes.web!);
      try {
        expect(await readFile(join(web.dir, 'built.txt'), 'utf8')).to.equal('true');
        expect(await exists(join(web.dir, 'node_modules/ms'))).to.equal(true);
        expect(await exists(join(web.dir, 'node_modules/is-number'))).to.equal(false);
        const res = await web.fetch('/health');
        expect(res.status).to.equal(200);
        expect(await res.text()).to.equal('ok 1m');
      } finally {
        await web.stop();
      }
      // Unchanged: the whole build is reused. Changed source: only node_modules is.
      const same = await testBuildpack(nodejs, fixture(`${pm}-app`), { cacheDir, env: COREPACK_ENV });
      await same.cleanup();
      expect(same.log.join('\n')).to.include('-----> Restoring cached build');
      const changed = join(work, 'changed');
      await cp(fixture(`${pm}-app`), changed, { recursive: true });
      await appendFile(join(changed, 'server.js'), '// a source change\n');
      const warm = await testBuildpack(nodejs, changed, { cacheDir, env: COREPACK_ENV });
      try {
        expect(warm.log.join('\n')).to.include('Using cached node_modules');
        expect(await exists(join(warm.buildDir!, 'node_modules/is-number'))).to.equal(false);
      } finally {
        await warm.cleanup();
      }
    });
  });
}
