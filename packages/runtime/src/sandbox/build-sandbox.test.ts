/**
 * Builds in the stack's build root, on real bubblewrap and the built stack: the worker and what
 * it starts see Debian trixie with its compilers, run as the app's uid, see none of the host
 * beyond the build's own dirs, report `STACK=slipway-13`, and a cancelled or timed-out build
 * leaves no process behind in its sandbox. Needs root, bwrap and `slipway stack:build`:
 * required in CI, a loud skip elsewhere.
 */

import { execFile } from 'node:child_process';
import { chmod, chown, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_STACK, isSlipwayError } from '@slipway/core';
import { expect } from 'chai';
import { runBuildInWorker } from '../build-runner.js';
import type { BuildJob } from '../build-worker.js';
import type { BuildSandbox } from './build-sandbox.js';
import { openStackBuilds } from './build-sandbox.js';

const fixture = (p: string) => fileURLToPath(new URL(`../../test/fixtures/${p}`, import.meta.url));
const APP = { uid: 65534, gid: 65534 };
const execFileP = promisify(execFile);

/**
 * Host pids of a build's processes: bwrap (its argv names the sandbox's dir `stubs`) and what
 * the worker started (their environment has the build's TMPDIR). A process's root link cannot
 * say it: it reads `/` from inside its own mount namespace.
 */
async function processesOf(stubs: string, workDir: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    if (cmdline.includes(stubs) || environ.split('\0').includes(`TMPDIR=${workDir}`)) found.push(Number(pid));
  }
  return found;
}

describe('builds in the stack build root (bubblewrap)', function () {
  this.timeout(120_000);
  let dir: string;
  let stubs: string;
  let sandbox: BuildSandbox;
  let configFile: string;
  let configDir: string;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'slipway-stack-build-'));
    await chmod(dir, 0o755);
    stubs = join(dir, 'stubs');
    const builds = await openStackBuilds(DEFAULT_STACK.id, stubs);
    if (!builds.sandbox) {
      if (process.env.CI === 'true') throw new Error(`CI must build in the stack: ${builds.warning}`);
      console.warn(`      ⚠ builds in the stack unavailable, skipped: ${builds.warning}`);
      return this.skip();
    }
    sandbox = builds.sandbox;
    // The config apart from the build dirs (its dir is bound whole), and the build dirs behind a
    // fence as AppDirs makes them: a dir only root and the app's group may pass.
    configDir = await mkdtemp(join(tmpdir(), 'slipway-stack-build-config-'));
    await chmod(configDir, 0o755);
    configFile = join(configDir, 'slipway.config.json');
    await mkdir(join(dir, 'fence'), { mode: 0o750 });
    await chown(join(dir, 'fence'), 0, APP.gid);
    await writeFile(
      configFile,
      JSON.stringify({
        defaults: false,
        plugins: [fixture('stack-probe/index.mjs'), fixture('bad-buildpacks/index.mjs')],
      }),
    );
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  /** A job whose dirs belong to the app's uid, as the platform's AppDirs makes them. */
  const job = async (name: string, src: string, timeoutMs: number): Promise<BuildJob> => {
    const work = join(dir, 'fence', name);
    await mkdir(work);
    await cp(src, join(work, 'src'), { recursive: true });
    for (const d of ['cache', 'buildpacks', 'home']) await mkdir(join(work, d));
    for (const d of ['', 'src', 'cache', 'buildpacks', 'home']) await chown(join(work, d), APP.uid, APP.gid);
    return {
      recipe: { configFile },
      source: join(work, 'src'),
      app: name,
      cacheDir: join(work, 'cache'),
      workDir: work,
      env: {},
      output: join(work, 'slug.tgz'),
      buildpacks: [],
      buildpacksDir: join(work, 'buildpacks'),
      timeoutMs,
      user: APP,
    };
  };
  const envFor = (j: BuildJob) => ({
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: join(j.workDir, 'home'),
    TMPDIR: j.workDir,
  });

  it("runs the buildpacks in Debian trixie with its compilers, as the app's uid, blind to the host", async () => {
    // A file every user may read on the host, outside the build's dirs.
    const other = await mkdtemp(join(tmpdir(), 'slipway-host-'));
    await chmod(other, 0o755);
    const secret = join(other, 'host-secret');
    await writeFile(secret, 'x', { mode: 0o644 });
    const src = join(dir, 'probe-src');
    await mkdir(src);
    await writeFile(join(src, 'STACK_PROBE'), secret);
    const j = await job('probe', src, 60_000);
    const lines: string[] = [];
    const out = await runBuildInWorker(j, (l) => lines.push(l), undefined, {
      env: envFor(j),
      cwd: j.workDir,
      sandbox,
    });
    const log = lines.join('\n');
    expect(log).to.include('codename=trixie');
    expect(log).to.include(`uid=${APP.uid}`);
    expect(log).to.include(`stack=${DEFAULT_STACK.id}`);
    expect(log).to.match(/cc=cc \(Debian 14/);
    expect(log).to.include('secret-visible=false');
    expect(out.stack).to.equal(DEFAULT_STACK.id);
    expect((await stat(out.slug.path)).size).to.be.above(0);
    await rm(other, { recursive: true, force: true });
  });

  it("binds the build's dirs through the app's fence: hard links cross them, its other entries are hidden", async () => {
    const fence = join(dir, 'fence', 'through');
    for (const d of ['cache', 'build', 'dynos']) await mkdir(join(fence, d), { recursive: true });
    await writeFile(join(fence, 'cache', 'runtime'), 'cached');
    await writeFile(join(fence, 'dynos', 'other-dyno-file'), 'not for builds');
    const w = await sandbox.wrap(
      { readOnly: [], readWrite: [join(fence, 'cache'), join(fence, 'build')], through: fence },
      false,
    );
    try {
      const script = `ln ${fence}/cache/runtime ${fence}/build/linked && echo linked; ls -A ${fence}/dynos | wc -l`;
      const [cmd, ...args] = [...w.argv, '/bin/sh', '-c', script];
      const out = (await execFileP(cmd as string, args)).stdout;
      expect(out).to.match(/^linked\n0\n$/);
      // One file, two names: the build dir's copy is the cache's (no link() crosses two mounts).
      expect((await stat(join(fence, 'build', 'linked'))).ino).to.equal(
        (await stat(join(fence, 'cache', 'runtime'))).ino,
      );
      expect(await readFile(join(fence, 'dynos', 'other-dyno-file'), 'utf8')).to.equal('not for builds');
    } finally {
      await w.cleanup();
    }
  });

  it('reads a buildpack pinned by absolute path (buildpacks:add /path), with what npm put beside it', async () => {
    // As `npm install` leaves one: the buildpack in a node_modules, a dependency beside it.
    const top = await mkdtemp(join(tmpdir(), 'slipway-pinned-'));
    await chmod(top, 0o755);
    const bp = join(top, 'node_modules', 'pinned-bp');
    await mkdir(join(bp, 'bin'), { recursive: true });
    await mkdir(join(top, 'node_modules', 'pinned-lib'));
    await writeFile(join(top, 'node_modules', 'pinned-lib', 'lib.sh'), 'SIBLING=from-a-sibling\n');
    const script = (body: string) => `#!/bin/sh\n${body}\n`;
    await writeFile(join(bp, 'bin/detect'), script('echo Pinned'), { mode: 0o755 });
    await writeFile(
      join(bp, 'bin/compile'),
      script(
        '. "$(dirname "$0")/../../pinned-lib/lib.sh"; echo "-----> pinned compile ran in $(. /etc/os-release; echo $VERSION_CODENAME), $SIBLING"',
      ),
      { mode: 0o755 },
    );
    await writeFile(
      join(bp, 'bin/release'),
      script("printf -- '---\\ndefault_process_types:\\n  web: sleep 1\\n'"),
      {
        mode: 0o755,
      },
    );
    const src = join(dir, 'pinned-src');
    await mkdir(src);
    await writeFile(join(src, 'README'), 'x');
    const j = { ...(await job('pinned', src, 60_000)), buildpacks: [bp] };
    const lines: string[] = [];
    try {
      const out = await runBuildInWorker(j, (l) => lines.push(l), undefined, {
        env: envFor(j),
        cwd: j.workDir,
        sandbox,
      });
      expect(lines.join('\n')).to.include('pinned compile ran in trixie, from-a-sibling');
      expect(out.processTypes).to.deep.equal({ web: 'sleep 1' });
    } finally {
      await rm(top, { recursive: true, force: true });
    }
  });

  it('a cancelled build leaves nothing running in its sandbox', async () => {
    const j = await job('cancel', fixture('bad-src'), 60_000);
    const ac = new AbortController();
    let err: unknown;
    let running: number[] = [];
    const onLine = async (l: string) => {
      if (!l.includes('hanging')) return;
      running = await processesOf(stubs, j.workDir);
      ac.abort();
    };
    await runBuildInWorker(j, (l) => void onLine(l), ac.signal, {
      env: envFor(j),
      cwd: j.workDir,
      sandbox,
    }).catch((e) => (err = e));
    expect((err as Error).message).to.match(/cancelled/);
    // The worker, its buildpack's `sleep` and bwrap's init were there, seen from the host.
    expect(running.length).to.be.at.least(2);
    const deadline = Date.now() + 5000;
    while ((await processesOf(stubs, j.workDir)).length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await processesOf(stubs, j.workDir)).to.deep.equal([]);
  });

  it('a build over its timeout is killed with everything it started', async () => {
    const j = await job('timeout', fixture('bad-src'), 1500);
    let err: unknown;
    await runBuildInWorker(j, () => {}, undefined, { env: envFor(j), cwd: j.workDir, sandbox }).catch(
      (e) => (err = e),
    );
    expect(
      isSlipwayError(err, 'SLIPWAY_ERR_BUILD_TIMEOUT') ||
        isSlipwayError(err, 'SLIPWAY_ERR_RUNTIME_BUILD_WORKER'),
    ).to.equal(true, String(err));
    const deadline = Date.now() + 5000;
    while ((await processesOf(stubs, j.workDir)).length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await processesOf(stubs, j.workDir)).to.deep.equal([]);
  });
});
