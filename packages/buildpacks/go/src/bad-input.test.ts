/**
 * Bad input and edge cases: each failing build names the buildpack, gives the cause in one
 * line and what to do, and writes no slug; vendored apps build without downloading.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSlipwayError, type SlipwayError, startSlug, testBuildpack } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import go from './index.js';
import { sharedCacheDir } from './testing/shared-cache.js';

const fixture = (name: string) => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));

describe('go buildpack: bad input and vendoring', function () {
  this.timeout(300_000);
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'slipway-go-bad-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  async function failing(name: string, env?: Record<string, string>): Promise<SlipwayError> {
    const output = join(work, `${name}.tgz`);
    let err: unknown;
    try {
      const r = await testBuildpack(go, fixture(name), {
        output,
        cacheDir: sharedCacheDir(),
        ...(env ? { env } : {}),
      });
      await r.cleanup();
    } catch (e) {
      err = e;
    }
    expect(isSlipwayError(err), `expected a SlipwayError, got ${String(err)}`).to.equal(true);
    const e = err as SlipwayError;
    expect(e.describe()).to.match(/^\[buildpack go\] /);
    expect(e.hint, 'a hint saying what to do').to.be.a('string').and.not.equal('');
    expect(e.message.split('\n')).to.have.length(1);
    expect(
      await stat(output).then(
        () => true,
        () => false,
      ),
      'no slug is written',
    ).to.equal(false);
    return e;
  }

  it('does not claim an app without go.mod, and says why', async () => {
    const r = await testBuildpack(go, fixture('not-go'), { pin: true });
    expect(r.detected).to.equal(false);
    expect(r.reason).to.include('go.mod');
    await r.cleanup();
  });

  it('fails when no Go release matches the go directive, listing the available ones', async () => {
    const e = await failing('go-too-new');
    expect(e.code).to.equal('SLIPWAY_ERR_BUILDPACK_RUNTIME_UNAVAILABLE');
    expect(e.message).to.include('go.mod (go 1.99) asks for Go 1.99.x').and.include('golang.org/toolchain');
    expect(e.message).to.match(/available: 1\.\d+\.\d+, .*1\.25\.\d+/);
  });

  it('fails on a compile error, quoting the file, line and error', async () => {
    const e = await failing('compile-error');
    expect(e.message).to.match(/^compilation failed: .*main\.go:6:\d+: undefined: undefinedName$/);
  });

  it('fails when a module does not exist', async () => {
    const e = await failing('missing-module');
    expect(e.message).to.include('a Go module could not be fetched').and.include('no-such-module-7f3a9c');
    expect(e.hint).to.include('go mod tidy');
  });

  it('fails when the module has no main package', async () => {
    const e = await failing('no-main');
    expect(e.message).to.equal('no main package found in the module');
  });

  it('fails clearly when Go is not installed and GOPROXY forbids downloading one', async () => {
    const e = await failing('vendored', { PATH: '/usr/bin:/bin', GOPROXY: 'off' });
    expect(e.message).to.include('Go toolchain was not found');
    expect(e.hint).to.include('Install Go');
  });

  it('builds vendored apps offline and defaults web to the module binary', async () => {
    const slug = join(work, 'vendored.tgz');
    const r = await testBuildpack(go, fixture('vendored'), { output: slug, cacheDir: sharedCacheDir() });
    await r.cleanup();
    const text = r.log.join('\n');
    expect(text).to.include('-----> Using vendored dependencies');
    expect(text).not.to.include('Downloading modules');
    expect(r.processTypes).to.deep.equal({ web: 'bin/vendored' });
    const web = await startSlug(slug, r.processTypes.web!, { env: { PATH: '/usr/bin:/bin' } });
    try {
      const res = await web.fetch('/health');
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal('ok 36');
    } finally {
      await web.stop();
    }
  });
});
