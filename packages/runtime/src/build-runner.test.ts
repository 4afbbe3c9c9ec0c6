/** The build worker isolates misbehaving buildpacks: a hang is killed with its whole tree, a crash is contained. */
import { EventEmitter } from 'node:events';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSlipwayError, manualClock } from '@slipway/core';
import { expect } from 'chai';
import { MAX_MESSAGE_BYTES, runBuildInWorker } from './build-runner.js';
import { takeBuiltSlug } from './built-slug.js';

const BAD = fileURLToPath(new URL('../test/fixtures/bad-buildpacks/index.mjs', import.meta.url));
const SRC = fileURLToPath(new URL('../test/fixtures/bad-src', import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('build worker isolation', function () {
  this.timeout(60_000);
  let dir: string;
  let configFile: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-worker-'));
    configFile = join(dir, 'slipway.config.json');
    await writeFile(configFile, JSON.stringify({ defaults: false, plugins: [BAD] }));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const job = (source: string, timeoutMs: number) => ({
    recipe: { configFile },
    source,
    app: 'worker-test',
    cacheDir: join(dir, 'cache'),
    workDir: dir,
    env: {},
    output: join(dir, 'slug.tgz'),
    buildpacks: [],
    buildpacksDir: join(dir, 'buildpacks'),
    timeoutMs,
  });

  it('times out a hanging build and kills its subprocesses too', async () => {
    const lines: string[] = [];
    const t0 = Date.now();
    let err: unknown;
    await runBuildInWorker(job(SRC, 1500), (l) => lines.push(l)).catch((e) => (err = e));
    expect(
      isSlipwayError(err, 'SLIPWAY_ERR_BUILD_TIMEOUT') ||
        isSlipwayError(err, 'SLIPWAY_ERR_RUNTIME_BUILD_WORKER'),
    ).to.equal(true, String(err));
    expect(Date.now() - t0).to.be.below(15_000);
    expect(lines.join('\n')).to.include('hanging');
    const pid = Number(await readFile(join(dir, 'sleep.pid'), 'utf8'));
    const deadline = Date.now() + 3000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid), `sleep ${pid} survived`).to.equal(false);
  });

  it("fails a build past its timeout on the platform's clock, with its coded error, without waiting", async () => {
    // A day-long timeout: only the manual clock can make it pass during the test.
    const clock = manualClock();
    const t0 = Date.now();
    let err: unknown;
    await runBuildInWorker(
      job(SRC, 24 * 3_600_000),
      (l) => {
        if (l.includes('hanging')) clock.advance(24 * 3_600_000 + 10_000);
      },
      undefined,
      { clock },
    ).catch((e) => (err = e));
    expect(isSlipwayError(err, 'SLIPWAY_ERR_RUNTIME_BUILD_WORKER'), String(err)).to.equal(true);
    expect((err as Error).message).to.match(/no result within 86410 s; the build was killed/);
    expect(Date.now() - t0).to.be.below(30_000);
    expect(clock.pending).to.equal(0);
    const pid = Number(await readFile(join(dir, 'sleep.pid'), 'utf8'));
    const deadline = Date.now() + 3000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid), `sleep ${pid} survived`).to.equal(false);
  });

  it('reports a buildpack that kills the build process as a coded error', async () => {
    const src = join(dir, 'crash-src');
    await cp(SRC, src, { recursive: true });
    await rm(join(src, 'HANG'));
    await writeFile(join(src, 'CRASH'), 'x');
    let err: unknown;
    await runBuildInWorker(job(src, 30_000), () => {}).catch((e) => (err = e));
    expect(isSlipwayError(err, 'SLIPWAY_ERR_RUNTIME_BUILD_WORKER'), String(err)).to.equal(true);
    expect((err as Error).message).to.match(/status 7/);
  });

  it('cancels a running build when asked (platform stop)', async () => {
    const ac = new AbortController();
    const p = runBuildInWorker(job(SRC, 60_000), (l) => l.includes('hanging') && ac.abort(), ac.signal);
    let err: unknown;
    await p.catch((e) => (err = e));
    expect((err as Error).message).to.match(/cancelled/);
  });

  it('lets go of the shared cancel signal when a build ends (no MaxListenersExceededWarning after 11 builds)', async () => {
    const src = join(dir, 'crash-src');
    await cp(SRC, src, { recursive: true });
    await rm(join(src, 'HANG'));
    await writeFile(join(src, 'CRASH'), 'x');
    const ac = new AbortController();
    await runBuildInWorker(job(src, 30_000), () => {}, ac.signal).catch(() => {});
    // Node counts listeners per event; any left behind here would add up across the platform's builds.
    expect(EventEmitter.getEventListeners(ac.signal, 'abort')).to.have.length(0);
  });

  it('ends a build whose worker floods its channel to the platform, holding at most one message', async () => {
    const src = join(dir, 'flood-src');
    await cp(SRC, src, { recursive: true });
    await rm(join(src, 'HANG'));
    await writeFile(join(src, 'FLOOD'), 'x');
    const rss = process.memoryUsage().rss;
    let err: unknown;
    await runBuildInWorker(job(src, 60_000), () => {}).catch((e) => (err = e));
    expect(isSlipwayError(err, 'SLIPWAY_ERR_RUNTIME_BUILD_WORKER'), String(err)).to.equal(true);
    expect((err as Error).message).to.match(/not JSON or is over/);
    expect(process.memoryUsage().rss - rss).to.be.below(8 * MAX_MESSAGE_BYTES);
  });

  it("never loads plugins from the app's HOME while root: a planted `.node_modules` is not used", async () => {
    // A default the platform does not have installed: node would look for it in $HOME/.node_modules.
    const home = join(dir, 'app-home');
    const planted = join(home, '.node_modules', '@slipway-test', 'planted');
    await mkdir(planted, { recursive: true });
    const marker = join(dir, 'planted-ran');
    await writeFile(
      join(planted, 'index.js'),
      `require('fs').writeFileSync(${JSON.stringify(marker)}, String(process.getuid()));\nmodule.exports = { name: 'planted', apply() {} };\n`,
    );
    const src = join(dir, 'plain-src');
    await cp(SRC, src, { recursive: true });
    await rm(join(src, 'HANG'));
    const lines: string[] = [];
    await runBuildInWorker(
      { ...job(src, 30_000), recipe: { defaults: ['@slipway-test/planted'] } },
      (l) => lines.push(l),
      undefined,
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TMPDIR: dir }, cwd: dir },
    ).catch(() => {});
    expect(lines.join('\n')).to.match(/skipped plugin @slipway-test\/planted/);
    const ran = await readFile(marker, 'utf8').catch(() => undefined);
    expect(ran, `the planted plugin ran as uid ${ran}`).to.equal(undefined);
  });

  it('a buildpack that reports a sparse 2 GiB file as its slug gets no copy of it on the platform', async () => {
    const src = join(dir, 'huge-src');
    await cp(SRC, src, { recursive: true });
    await rm(join(src, 'HANG'));
    await writeFile(join(src, 'HUGE'), 'x');
    // The worker's word is taken for the slug at the job's path (it is the app's file)...
    const out = await runBuildInWorker(job(src, 60_000), () => {}, undefined, { cwd: dir });
    expect(out.slug.path).to.equal(join(dir, 'slug.tgz'));
    // ...and the platform's copy of it holds the slug limit: no 2 GiB written to its disk.
    const dest = join(dir, 'platform-copy.tgz');
    const err = await takeBuiltSlug(out.slug.path, dest).catch((e) => e);
    expect(isSlipwayError(err, 'SLIPWAY_ERR_SLUG_TOO_LARGE'), String(err)).to.equal(true);
    expect(await readFile(dest).catch(() => undefined)).to.equal(undefined);
  });

  it('refuses a result naming another stack than the build ran in (a name that climbs out of the stack cache)', async () => {
    const src = join(dir, 'stack-src');
    await cp(SRC, src, { recursive: true });
    await rm(join(src, 'HANG'));
    await writeFile(join(src, 'STACK'), 'x');
    const err = await runBuildInWorker(job(src, 60_000), () => {}, undefined, { cwd: dir }).catch((e) => e);
    expect(isSlipwayError(err, 'SLIPWAY_ERR_RUNTIME_BUILD_WORKER'), String(err)).to.equal(true);
    expect(err.message).to.include('another stack');
  });
});
