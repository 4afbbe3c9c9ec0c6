/**
 * Issue 11 (6, 7, 8): a real `slipway start` process, SIGKILLed in the middle of a config change
 * and of a build, and a second `slipway start` on its data dir. Afterwards the config the API
 * shows is the serving release's, nothing the killed platform started is still running, and
 * the second start refused without touching the first.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  CLI,
  eventually,
  fixtureCopy,
  loadGenerator,
  PlatformProcess,
  removeFixtureCopies,
} from '../platform-harness.test-helper.js';
import { processesMatching } from './process-scan.test-helper.js';

/** A CLI error as the user sees it: a coded message, never a stack trace. */
function expectCleanFailure(r: { code: number; stderr: string }, code: RegExp): void {
  expect(r.code, r.stderr).to.not.equal(0);
  expect(r.stderr).to.match(code);
  expect(r.stderr, 'no stack trace').to.not.match(/\n\s+at .+:\d+:\d+/);
}

describe('platform crash safety: SIGKILL mid-change, a second start (real processes)', function () {
  this.timeout(600_000);
  let dataDir: string;
  let args: string[];
  let p: PlatformProcess;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'slipway-crash-'));
    // With the Redis add-on, so that a backing server is running when the platform is killed.
    const config = join(await mkdtemp(join(tmpdir(), 'slipway-cfg-')), 'slipway.config.json');
    const pkg = (name: string) => fileURLToPath(new URL(`../../../${name}`, import.meta.url));
    await writeFile(config, JSON.stringify({ plugins: [pkg('buildpacks/nodejs'), pkg('addons/redis')] }));
    args = ['--config', config];
    p = await PlatformProcess.start(dataDir, args);
    await p.ok(['apps:create', 'cache']);
    await p.ok(['addons:create', 'redis', '-a', 'cache']);
    await p.ok(['apps:create', 'steady']);
    // BOOT_DELAY makes a release's new web dynos slow to bind: a window to kill the platform in.
    const src = await fixtureCopy('hello', {
      VERSION: 'one',
      Procfile: 'web: sleep $((BOOT_DELAY+0)); exec node server.js\n',
    });
    await p.ok(['deploy', src, '-a', 'steady']);
    await p.ok(['config:set', 'GREETING=before', '-a', 'steady']);
  });
  after(async () => {
    await p?.kill('SIGTERM');
    if (dataDir) {
      const runtimeDir = (await readFile(join(dataDir, 'runtime-dir'), 'utf8').catch(() => '')).trim();
      if (runtimeDir) await rm(runtimeDir, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    }
    await removeFixtureCopies();
  });

  it('refuses a second start on the same data dir with a coded error, and the first keeps serving', async () => {
    const load = loadGenerator(p, 'steady', 2);
    const second = await new Promise<{ code: number; stderr: string; ms: number }>((resolve) => {
      const t0 = Date.now();
      const child = spawn(
        process.execPath,
        [CLI, 'start', '--data-dir', dataDir, '--port', '0', '--api-port', '0', ...args],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { ...process.env, SLIPWAY_API_URL: '', SLIPWAY_TOKEN: '' },
        },
      );
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stderr, ms: Date.now() - t0 });
      });
    });
    const stats = await load.stop();
    expectCleanFailure(second, /SLIPWAY_ERR_RUNTIME_DATA_DIR_LOCKED/);
    expect(second.stderr).to.include(`in use by another running platform (pid ${p.child.pid})`);
    expect(stats.failed, stats.failures.join('\n')).to.equal(0);
    expect(stats.ok).to.be.greaterThan(0);
    expect((await p.hello('steady')).greeting).to.equal('before');
    // The first platform's dynos, add-on servers and API are untouched.
    expect(JSON.parse(await p.ok(['config', '-a', 'steady', '--json']))).to.deep.equal({
      GREETING: 'before',
    });
  });

  it("shows the serving release's config after a SIGKILL during config:set", async () => {
    const before = JSON.parse(await p.ok(['releases', '-a', 'steady', '--json'])) as { version: number }[];
    const setting = p.cli(['config:set', 'BOOT_DELAY=120', 'GREETING=after', '-a', 'steady']);
    // The new release exists (pending) and its dynos are booting: kill now.
    expect(
      await eventually(async () => {
        const rs = JSON.parse(await p.ok(['releases', '-a', 'steady', '--json'])) as { status: string }[];
        return rs.length > before.length && rs.at(-1)?.status === 'pending';
      }, 60_000),
      'a pending release',
    ).to.equal(true);
    await p.kill('SIGKILL');
    expectCleanFailure(await setting, /SLIPWAY_ERR_CLI_(UNREACHABLE|CONNECTION_LOST)/);

    p = await PlatformProcess.start(dataDir, args);
    expect(JSON.parse(await p.ok(['config', '-a', 'steady', '--json']))).to.deep.equal({
      GREETING: 'before',
    });
    const rs = JSON.parse(await p.ok(['releases', '-a', 'steady', '--json'])) as {
      version: number;
      status: string;
      current: boolean;
    }[];
    expect(rs.at(-1)?.status).to.equal('failed');
    const current = rs.find((r) => r.current);
    expect(current?.version).to.equal(before.at(-1)?.version);
    expect(await eventually(async () => (await p.get('steady')).status === 200, 60_000)).to.equal(true);
    expect((await p.hello('steady')).greeting).to.equal('before');
    // The next change starts from the serving config: nothing of the interrupted one comes back.
    await p.ok(['config:set', 'OTHER=x', '-a', 'steady']);
    expect(JSON.parse(await p.ok(['config', '-a', 'steady', '--json']))).to.deep.equal({
      GREETING: 'before',
      OTHER: 'x',
    });
  });

  it('leaves no build, build worker or dyno running after a SIGKILL during a deploy', async () => {
    const marker = `slipway-orphan-${randomBytes(4).toString('hex')}`;
    const src = await fixtureCopy('hello', {
      VERSION: 'two',
      'package.json': JSON.stringify({
        name: 'hello',
        version: '1.0.0',
        private: true,
        engines: { node: '>=20' },
        scripts: { 'heroku-postbuild': `node -e "setTimeout(() => {}, 300000)" ${marker}` },
      }),
    });
    const deploying = p.cli(['deploy', src, '-a', 'steady']);
    expect(
      await eventually(async () => (await processesMatching(marker)).length > 0, 120_000),
      'the build script running',
    ).to.equal(true);
    // This platform's build workers (others may be building on the same machine).
    const workers = (await processesMatching('build-worker.js')).filter((w) => w.ppid === p.child.pid);
    expect(workers.length).to.be.greaterThan(0);
    // Everything the platform runs in its data dir: dynos (cwd in the slug cache), the Redis
    // server and its watchdog (cwd in the add-on's dir).
    // Dynos and builds run in the runtime dir the platform chose (app uids cannot reach the data dir).
    const runtimeDir = (await readFile(join(dataDir, 'runtime-dir'), 'utf8').catch(() => '')).trim();
    const roots = [dataDir, ...(runtimeDir ? [runtimeDir] : [])];
    const inDataDir = async () =>
      (await processesMatching('')).filter((x) =>
        roots.some((r) => x.cwd.startsWith(r) || x.cmdline.includes(r)),
      );
    const running = await inDataDir();
    expect(
      running.filter((x) => x.cmdline.includes('server.js')).length,
      'the serving dyno',
    ).to.be.greaterThan(0);
    expect(
      running.filter((x) => x.cmdline.includes('redis-server')).length,
      'the redis server',
    ).to.be.greaterThan(0);
    const killedAt = Date.now();
    await p.kill('SIGKILL');
    const orphans = async () => [
      ...(await processesMatching(marker)),
      ...(await processesMatching('build-worker.js')).filter((w) => workers.some((x) => x.pid === w.pid)),
      ...(await inDataDir()),
    ];
    const clean = await eventually(async () => (await orphans()).length === 0, 15_000);
    expect(clean, `left running: ${(await orphans()).map((x) => x.cmdline).join('; ')}`).to.equal(true);
    const goneAfterMs = Date.now() - killedAt;
    expect(goneAfterMs).to.be.below(15_000);
    console.log(`      everything the killed platform ran was gone ${goneAfterMs} ms after the SIGKILL`);
    expectCleanFailure(await deploying, /SLIPWAY_ERR_CLI_CONNECTION_LOST|connection to the platform/);

    p = await PlatformProcess.start(dataDir, args);
    const { token } = JSON.parse(await readFile(join(dataDir, 'credentials.json'), 'utf8'));
    const builds = (await (
      await fetch(`${p.apiUrl}/apps/steady/builds`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { status: string }[];
    expect(builds.at(-1)?.status).to.equal('failed');
    expect(await eventually(async () => (await p.get('steady')).status === 200, 60_000)).to.equal(true);
    expect((await p.hello('steady')).version).to.equal('one');
  });
});
