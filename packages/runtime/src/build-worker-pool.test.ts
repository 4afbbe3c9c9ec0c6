/**
 * Pre-started build workers, on real bubblewrap and the built stack: a rebuild runs on the worker
 * started after the previous build, and that worker is as isolated as a fresh one (the app's uid,
 * the stack's root, nothing of another app's builds); a job it does not cover (another dir, a dir
 * removed and made again) gets a fresh worker and the waiting one is stopped; closing the pool
 * stops what waits. Needs root, bwrap and `slipway stack:build`: required in CI, a loud skip
 * elsewhere.
 */
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_STACK } from '@slipway/core';
import { expect } from 'chai';
import { runBuildInWorker } from './build-runner.js';
import type { BuildJob } from './build-worker.js';
import { BuildWorkerPool } from './build-worker-pool.js';
import { type BuildSandbox, openStackBuilds } from './sandbox/build-sandbox.js';

const PROBE = fileURLToPath(new URL('../test/fixtures/stack-probe/index.mjs', import.meta.url));
const APP = { uid: 65534, gid: 65534 };

/** Whether `pid` runs (signal 0 checks without sending). */
function alive(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch {
    return false;
  }
}
async function gone(pid: number): Promise<boolean> {
  for (const end = Date.now() + 5000; alive(pid) && Date.now() < end; )
    await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

describe('pre-started build workers (in the stack build root)', function () {
  this.timeout(120_000);
  let dir: string;
  let sandbox: BuildSandbox;
  let configFile: string;
  let pool: BuildWorkerPool;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'slipway-warm-builds-'));
    await chmod(dir, 0o755);
    const builds = await openStackBuilds(DEFAULT_STACK.id, join(dir, 'stubs'));
    if (!builds.sandbox) {
      if (process.env.CI === 'true') throw new Error(`CI must build in the stack: ${builds.warning}`);
      console.warn(`      ⚠ builds in the stack unavailable, skipped: ${builds.warning}`);
      return this.skip();
    }
    sandbox = builds.sandbox;
    await mkdir(join(dir, 'config'), { mode: 0o755 });
    configFile = join(dir, 'config', 'slipway.config.json');
    await writeFile(configFile, JSON.stringify({ defaults: false, plugins: [PROBE] }));
  });
  beforeEach(() => {
    pool = new BuildWorkerPool();
  });
  afterEach(() => pool?.close());
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** An app's dirs as AppDirs lays them out: `builds/<id>` per build, cache, HOME, buildpacks. */
  async function appDirs(app: string) {
    const root = join(dir, 'apps', app);
    for (const d of ['builds', 'cache', 'home', 'buildpacks']) {
      await mkdir(join(root, d), { recursive: true });
      await chown(join(root, d), APP.uid, APP.gid);
    }
    return root;
  }

  let n = 0;
  /** Build `app` with the probe, looking for `secret`; its log. */
  async function build(app: string, secret: string, over: Partial<BuildJob> = {}) {
    const root = await appDirs(app);
    const work = join(root, 'builds', `b${n++}`);
    await mkdir(join(work, 'src'), { recursive: true });
    await writeFile(join(work, 'src', 'STACK_PROBE'), secret);
    await chown(work, APP.uid, APP.gid);
    await chown(join(work, 'src'), APP.uid, APP.gid);
    const job: BuildJob = {
      recipe: { configFile },
      source: join(work, 'src'),
      app,
      cacheDir: join(root, 'cache'),
      workDir: work,
      env: {},
      output: join(work, 'slug.tgz'),
      buildpacks: [],
      buildpacksDir: join(root, 'buildpacks'),
      timeoutMs: 60_000,
      user: APP,
      ...over,
    };
    const lines: string[] = [];
    // Each build its own commit: it travels with the job, so it does not stop a waiting worker's use.
    const env = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: join(root, 'home'),
      TMPDIR: work,
      SOURCE_VERSION: `commit-${work.split('/').pop()}`,
    };
    await runBuildInWorker(job, (l) => lines.push(l), undefined, {
      env,
      cwd: work,
      sandbox,
      warm: { pool, buildsDir: join(root, 'builds') },
    });
    return lines.join('\n');
  }

  it("runs a rebuild on the worker started after the last build, as the app's uid, blind to another app", async () => {
    // Another app's build, with a file its own uid could read: not in app a's sandbox.
    const other = join(await appDirs('b'), 'builds', 'b-build');
    await mkdir(other, { mode: 0o755 });
    await writeFile(join(other, 'secret'), 'x', { mode: 0o644 });
    await build('a', join(other, 'secret'));
    await pool.ready('a');
    const waiting = pool.pid('a') as number;
    expect(waiting, 'a worker waits for the next build of a').to.be.a('number');
    const log = await build('a', join(other, 'secret'));
    expect(log).to.include('codename=trixie');
    expect(log).to.include(`source-version=commit-b${n - 1}`);
    expect(log).to.include(`uid=${APP.uid}`);
    expect(log).to.include('secret-visible=false');
    // It ran the build (and ended with it); another one waits now.
    expect(await gone(waiting), 'the waiting worker ran the build and exited').to.equal(true);
    await pool.ready('a');
    expect(pool.pid('a')).to.be.a('number').and.not.equal(waiting);
  });

  it('starts a fresh worker for a job the waiting one does not cover, and stops that one', async () => {
    await build('c', '/nonexistent');
    await pool.ready('c');
    const first = pool.pid('c') as number;
    // Another cache dir than the waiting worker binds.
    const cache = join(dir, 'apps', 'c', 'cache2');
    await mkdir(cache);
    await chown(cache, APP.uid, APP.gid);
    expect(await build('c', cache, { cacheDir: cache })).to.include('secret-visible=true');
    expect(await gone(first)).to.equal(true);
    // The cache dir removed and made again at the same path: the waiting worker's mount would
    // show the old one, so it is not used.
    await pool.ready('c');
    const second = pool.pid('c') as number;
    await rm(cache, { recursive: true });
    await mkdir(cache);
    await writeFile(join(cache, 'new'), 'x');
    await chown(cache, APP.uid, APP.gid);
    expect(await build('c', join(cache, 'new'), { cacheDir: cache })).to.include('secret-visible=true');
    expect(await gone(second)).to.equal(true);
  });

  it('stops the waiting workers when closed', async () => {
    await build('d', '/nonexistent');
    await pool.ready('d');
    const pid = pool.pid('d') as number;
    expect(alive(pid)).to.equal(true);
    await pool.close();
    expect(await gone(pid)).to.equal(true);
    expect(pool.apps()).to.deep.equal([]);
  });
});
