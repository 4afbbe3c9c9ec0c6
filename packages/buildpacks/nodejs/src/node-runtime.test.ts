/**
 * engines.node asking for a Node.js the platform does not have (14.x): the release comes from the
 * npm registry's official binaries with a matching npm, the build script and the dyno both run
 * on it, and a rebuild takes it from the cache without downloading.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testBuildpack } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import nodejs from './index.js';
import { binaryPackage } from './node-runtime.js';

const fixture = fileURLToPath(new URL('../test/fixtures/engines-14', import.meta.url));

describe('nodejs buildpack: a Node.js version from the npm registry', function () {
  this.timeout(240_000);
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'slipway-node-runtime-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('installs the newest 14.x into the slug; the build and the dyno run it; a rebuild uses the cache', async () => {
    const cacheDir = join(work, 'cache');
    const cold = await testBuildpack(nodejs, fixture, { cacheDir });
    try {
      const text = cold.log.join('\n');
      expect(text).to.match(/-----> Installing Node\.js 14\.21\.3/);
      expect(text).to.include(`Downloading ${binaryPackage()}@14.21.3 from the npm registry`);
      expect(text).to.match(
        /Using Node\.js v14\.21\.3 and npm 9\.\d+\.\d+ \(in the slug at \.heroku\/node\)/,
      );
      const web = await cold.start('web');
      const body = (await (await web.fetch('/')).json()) as { running: string; built: string };
      expect(body).to.deep.equal({ running: 'v14.21.3', built: 'v14.21.3' });
    } finally {
      await cold.cleanup();
    }
    const warm = await testBuildpack(nodejs, fixture, { cacheDir });
    try {
      const text = warm.log.join('\n');
      expect(text).to.match(/-----> Installing Node\.js 14\.21\.3/);
      expect(text).to.match(/Using cached Node\.js 14\.21\.3 and npm 9\./);
      expect(text).not.to.include('Downloading');
    } finally {
      await warm.cleanup();
    }
  });
});
