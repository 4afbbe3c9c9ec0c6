/**
 * The hello-web fixture (tiny_http) through the real pipeline and the real toolchain: one cold
 * build shared by the tests, the slug run from another directory, a warm rebuild from the cache,
 * and the cache keys: a Cargo.lock change and a rustc change each drop what they must.
 */
import { execFile } from 'node:child_process';
import { access, chmod, cp, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSlug, testBuildpack, unpackSlug } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import rust from './index.js';
import { fixture, sharedCacheDir } from './testing/shared-cache.js';
import { requireRust } from './testing/toolchain.js';

const execFileP = promisify(execFile);
const DYNO_PATH = '/usr/local/bin:/usr/bin:/bin';

describe('rust buildpack: hello-web (tiny_http)', function () {
  this.timeout(600_000);
  let work: string;
  let coldLog: string;
  let coldMs: number;
  let appDir: string;
  let slugPath: string;
  let slugEntries: string;
  let processTypes: Record<string, string>;

  before(async function () {
    await requireRust(this);
    work = await mkdtemp(join(tmpdir(), 'slipway-rust-example-'));
    slugPath = join(work, 'slug.tgz');
    const started = Date.now();
    const r = await testBuildpack(rust, fixture('hello-web'), {
      cacheDir: sharedCacheDir(),
      output: slugPath,
    });
    coldMs = Date.now() - started;
    coldLog = r.log.join('\n');
    processTypes = r.processTypes;
    // The slug must not depend on the build dir: remove it before running anything.
    await r.cleanup();
    slugEntries = (await execFileP('tar', ['-tzf', slugPath])).stdout;
    appDir = await unpackSlug(slugPath);
    console.log(`      cold build of hello-web: ${(coldMs / 1000).toFixed(1)} s`);
  });

  after(async () => {
    if (appDir) await rm(appDir, { recursive: true, force: true });
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('streams Heroku-style output: toolchain, cache decisions, crates compiled', () => {
    expect(coldLog).to.include('-----> Rust app detected');
    expect(coldLog).to.match(/Using rustc \d+\.\d+\.\d+ \(.+\), cargo \d+\.\d+\.\d+/);
    expect(coldLog).to.include('Compiling from scratch: first build');
    expect(coldLog).to.include('-----> Compiling 1 binary (release profile)');
    expect(coldLog).to.match(/Compiling tiny_http v0\.12\./);
    expect(coldLog).to.include('hello-web -> bin/hello-web');
  });

  it('ships the binary and .profile.d, not target/ or the cargo registry', async () => {
    expect(processTypes).to.deep.equal({ web: 'bin/hello-web' });
    for (const f of ['bin/hello-web', '.profile.d/rust.sh', 'Cargo.toml']) await access(join(appDir, f));
    expect(slugEntries).not.to.match(/(^|\/)target\//m);
    expect(slugEntries).not.to.match(/registry\//);
  });

  it('runs web from the unpacked slug with PORT and answers /health and /', async () => {
    // The SDK's dyno-like start: a fresh unpack, .profile.d, PORT, unprivileged when root.
    const web = await startSlug(slugPath, processTypes.web!, { env: { PATH: DYNO_PATH } });
    try {
      const health = await web.fetch('/health');
      expect(health.status).to.equal(200);
      expect(await health.json()).to.deep.equal({ status: 'ok' });
      const root = await web.fetch('/');
      expect(await root.json()).to.deep.equal({ app: 'hello-web', dyno: 'web.1' });
      expect((await web.fetch('/nope')).status).to.equal(404);
    } finally {
      await web.stop();
    }
  });

  it('rebuilds from the cache without downloading or recompiling crates', async () => {
    const started = Date.now();
    const r = await testBuildpack(rust, fixture('hello-web'), { cacheDir: sharedCacheDir() });
    const ms = Date.now() - started;
    try {
      const text = r.log.join('\n');
      expect(text).to.include('Using cached Cargo registry (Cargo.lock unchanged)');
      expect(text).to.include('Using cached target/ (rustc and Cargo.lock unchanged)');
      expect(text).not.to.match(/Compiling tiny_http|Downloaded /);
      expect(text).to.match(/Compiling hello-web v0\.1\.0/);
      expect(r.processTypes.web).to.equal('bin/hello-web');
      console.log(
        `      warm rebuild of hello-web: ${(ms / 1000).toFixed(1)} s (cold ${(coldMs / 1000).toFixed(1)} s)`,
      );
      expect(ms).to.be.lessThan(coldMs);
    } finally {
      await r.cleanup();
    }
  });

  it('drops both layers when Cargo.lock changes: crates are fetched and compiled again', async () => {
    // A real, consistent lock change without the network: the root package's version bump.
    const copy = join(work, 'bumped');
    await cp(fixture('hello-web'), copy, { recursive: true });
    for (const f of ['Cargo.toml', 'Cargo.lock']) {
      const text = await readFile(join(copy, f), 'utf8');
      await writeFile(join(copy, f), text.replace(/(name = "hello-web"\nversion = )"0\.1\.0"/, '$1"0.2.0"'));
    }
    const cache = join(work, 'cache-lock');
    await cp(sharedCacheDir(), cache, { recursive: true });
    const r = await testBuildpack(rust, copy, { cacheDir: cache });
    try {
      const text = r.log.join('\n');
      expect(text).to.include('Cargo registry cache not used: Cargo.lock changed');
      expect(text).to.include('Compiling from scratch: Cargo.lock changed');
      expect(text).to.match(/Downloaded tiny_http v0\.12\./);
      expect(text).to.match(/Compiling tiny_http v0\.12\./);
    } finally {
      await r.cleanup();
      await rm(cache, { recursive: true, force: true });
    }
  });
});

describe('rust buildpack: a toolchain change', function () {
  this.timeout(300_000);
  let work: string;

  before(async function () {
    await requireRust(this);
    work = await mkdtemp(join(tmpdir(), 'slipway-rust-toolchain-'));
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('keeps the registry but compiles from scratch when rustc reports another version', async () => {
    const cache = join(work, 'cache');
    const first = await testBuildpack(rust, fixture('plain'), { cacheDir: cache });
    await first.cleanup();
    // A rustc earlier on PATH that reports another release: what a toolchain upgrade looks like.
    const { stdout: sysroot } = await execFileP('rustc', ['--print', 'sysroot']);
    const realRustc = join(sysroot.trim(), 'bin', 'rustc');
    const bin = join(work, 'bumped-rust-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(
      join(bin, 'rustc'),
      `#!/bin/sh\nif [ "$1" = "-vV" ]; then ${JSON.stringify(realRustc)} -vV | sed 's/^release: .*/release: 1.99.0/'; exit 0; fi\nexec ${JSON.stringify(realRustc)} "$@"\n`,
    );
    await chmod(join(bin, 'rustc'), 0o755);
    const r = await testBuildpack(rust, fixture('plain'), {
      cacheDir: cache,
      env: { PATH: `${bin}:${process.env.PATH}` },
    });
    try {
      const text = r.log.join('\n');
      expect(text).to.include('Using rustc 1.99.0');
      expect(text).to.include('Using cached Cargo registry (Cargo.lock unchanged)');
      expect(text).to.include('Compiling from scratch: rustc changed (');
      expect(text).to.include('-> 1.99.0)');
      expect(r.processTypes.web).to.equal('bin/plain');
    } finally {
      await r.cleanup();
    }
  });
});

describe('rust buildpack: older sources than the cached build', function () {
  this.timeout(300_000);
  let work: string;
  before(async function () {
    await requireRust(this);
    work = await mkdtemp(join(tmpdir(), 'slipway-rust-rollback-'));
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('compiles the sources it was given even when their mtimes predate the cached target/', async () => {
    // A rollback or an old tarball: same Cargo.lock, different code, files dated in the past.
    const cache = join(work, 'cache');
    const build = async (message: string, date: Date) => {
      const app = join(work, message);
      await cp(fixture('plain'), app, { recursive: true });
      const main = join(app, 'src', 'main.rs');
      await writeFile(main, `fn main() { println!("${message}"); }\n`);
      await utimes(main, date, date);
      const r = await testBuildpack(rust, app, { cacheDir: cache });
      try {
        return (await execFileP(join(r.buildDir!, 'bin', 'plain'))).stdout.trim();
      } finally {
        await r.cleanup();
      }
    };
    expect(await build('second-release', new Date('2024-06-01'))).to.equal('second-release');
    expect(await build('first-release', new Date('2020-01-01'))).to.equal('first-release');
  });
});

describe('rust buildpack: several binaries', function () {
  this.timeout(300_000);
  before(async function () {
    await requireRust(this);
  });

  it('copies what cargo built, skips a binary behind required-features, and picks the root one for web', async () => {
    const r = await testBuildpack(rust, fixture('two-bins'));
    try {
      const text = r.log.join('\n');
      expect(text).to.include('-----> Compiling 3 binaries (release profile)');
      expect(text).to.include('two-bins -> bin/two-bins');
      expect(text).to.include('worker -> bin/worker');
      expect(text).to.include('admin: not built by `cargo build --release`');
      expect(r.processTypes).to.deep.equal({ web: 'bin/two-bins' });
      const worker = await execFileP(join(r.buildDir!, 'bin', 'worker'));
      expect(worker.stdout.trim()).to.equal('worker');
    } finally {
      await r.cleanup();
    }
  });
});
