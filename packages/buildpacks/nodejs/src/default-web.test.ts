/** An app with no start script and no dependencies: web defaults to `node server.js`. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testBuildpack } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import nodejs from './index.js';
import { freePort, removeDir, startProcess, unpackSlug, waitForHttp } from './testing/run-slug.js';

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
    const app = await unpackSlug(slug);
    const port = await freePort();
    const web = startProcess(app, r.processTypes.web!, { PATH: process.env.PATH ?? '', PORT: String(port) });
    try {
      const res = await waitForHttp(`http://127.0.0.1:${port}/health`, web);
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal(`cwd=${app} env=production`);
    } finally {
      await web.stop();
      await removeDir(app);
      await rm(work, { recursive: true, force: true });
    }
  });
});
