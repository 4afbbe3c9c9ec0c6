/** What a user sees when the app is not Rust or the build cannot succeed: coded, one-line causes. */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSlipwayError, type SlipwayError, testBuildpack } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import rust from './index.js';
import { fixture } from './testing/shared-cache.js';
import { requireRust } from './testing/toolchain.js';

/** Build `dir` and return the error it fails with. */
async function failure(dir: string): Promise<SlipwayError> {
  try {
    const r = await testBuildpack(rust, dir);
    await r.cleanup();
  } catch (e) {
    expect(isSlipwayError(e), `expected a SlipwayError, got ${String(e)}`).to.equal(true);
    const err = e as SlipwayError;
    expect(err.describe()).to.match(/^\[buildpack rust\] /);
    expect(err.hint, 'a hint saying what to do').to.be.a('string').and.not.equal('');
    expect(err.message.split('\n')).to.have.length(1);
    return err;
  }
  throw new Error(`building ${dir} succeeded; a failure was expected`);
}

describe('rust buildpack: bad input', function () {
  this.timeout(120_000);
  before(async function () {
    await requireRust(this);
  });

  it('does not claim an app without Cargo.toml, and says why when pinned', async () => {
    const r = await testBuildpack(rust, fixture('not-rust'), { pin: true });
    expect(r.detected).to.equal(false);
    expect(r.reason).to.equal('no Cargo.toml at the app root');
    await r.cleanup();
  });

  it('says how to install Rust when cargo and rustc are not on PATH', async () => {
    let err: unknown;
    try {
      const r = await testBuildpack(rust, fixture('plain'), { env: { PATH: '/nonexistent-bin' } });
      await r.cleanup();
    } catch (e) {
      err = e;
    }
    expect(isSlipwayError(err), String(err)).to.equal(true);
    const e = err as SlipwayError;
    expect(e.describe()).to.match(/^\[buildpack rust\] the Rust toolchain was not found/);
    expect(e.hint).to.include('rustup');
  });

  it('names the Rust error and its location when the code does not compile', async () => {
    const e = await failure(fixture('compile-error'));
    expect(e.message).to.match(/compilation failed: error\[E0425\]: cannot find value `undefined_name`/);
    expect(e.message).to.include('src/main.rs:2:');
  });

  it('refuses an app whose rust-version is newer than the installed rustc', async () => {
    const e = await failure(fixture('rust-too-new'));
    expect(e.message).to.include('1.999');
    expect(e.describe()).to.match(/Rust/);
  });

  it('says Cargo.lock is out of date instead of rewriting it (--locked)', async () => {
    const work = await mkdtemp(join(tmpdir(), 'slipway-rust-stale-'));
    try {
      await cp(fixture('plain'), work, { recursive: true });
      const toml = await readFile(join(work, 'Cargo.toml'), 'utf8');
      await writeFile(join(work, 'Cargo.toml'), toml.replace('version = "0.1.0"', 'version = "0.3.0"'));
      const e = await failure(work);
      expect(e.message).to.include('Cargo.lock is out of date with Cargo.toml');
      expect(e.hint).to.include('commit the updated Cargo.lock');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
