/** An app with no start script and no dependencies: web defaults to `node server.js`. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSlug, testBuildpack } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import nodejs from './index.js';

describe('nodejs buildpack: default web process', function () {
  this.timeout(60_000);
  it('is node server.js, runs from the unpacked dir with NODE_ENV=production from .profile.d', async () => {
    const work = await mkdtemp(join(tmpdir(), 'slipway-nodejs-default-web-'));
    const slug = join(work, 'slug.tgz');
    const r = await testBuildpack(
      nodejs,
      fileURLToPath(new URL('../test/fixtures/server-only', import.meta.url)),
      {
        output: slug,
      },
    );
    await r.cleanup();
    expect(r.processTypes).to.deep.equal({ web: 'node server.js' });
    const web = await startSlug(slug, r.processTypes.web!);
    try {
      const res = await web.fetch('/health');
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal(`cwd=${web.dir} env=production`);
    } finally {
      await web.stop();
      await rm(work, { recursive: true, force: true });
    }
  });
});
