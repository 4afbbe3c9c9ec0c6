import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testBuildpack } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import nodejs from './index.js';
import { savedNow, untouchedSince } from './layer-copy.js';

describe('nodejs buildpack: linked cache layers', function () {
  this.timeout(120_000);

  it('sees a file rewritten in place after the save, and nothing before it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-untouched-'));
    try {
      await mkdir(join(dir, 'a/b'), { recursive: true });
      await writeFile(join(dir, 'a/b/file.js'), 'x');
      const saved = savedNow();
      expect(await untouchedSince(dir, saved)).to.equal(true);
      await new Promise((r) => setTimeout(r, 20));
      await appendFile(join(dir, 'a/b/file.js'), 'y');
      expect(await untouchedSince(dir, saved)).to.equal(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not reuse node_modules that a build script rewrote in place', async () => {
    const work = await mkdtemp(join(tmpdir(), 'slipway-nodejs-inplace-'));
    const fixture = fileURLToPath(new URL('../test/fixtures/edits-node-modules', import.meta.url));
    const cacheDir = join(work, 'cache');
    try {
      const first = await testBuildpack(nodejs, fixture, { cacheDir });
      await first.cleanup();
      // A source change, so the whole-build cache does not apply and node_modules is restored.
      const { cp } = await import('node:fs/promises');
      const copy = join(work, 'changed');
      await cp(fixture, copy, { recursive: true });
      await appendFile(join(copy, 'build.js'), '// a source change\n');
      const second = await testBuildpack(nodejs, copy, { cacheDir });
      try {
        const text = second.log.join('\n');
        expect(text).to.include('changed after it was saved');
        expect(text).to.include('-----> Installing dependencies');
        const patched = await readFile(join(second.buildDir!, 'node_modules/ms/index.js'), 'utf8');
        expect(patched.match(/patched by the build/g)).to.have.length(1);
      } finally {
        await second.cleanup();
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
