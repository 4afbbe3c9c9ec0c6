/**
 * End-to-end: the Heroku workflow through the real CLI against a real `slipway start` process,
 * real builds (the Node.js buildpack over a dependency-free app), real dynos and the real
 * router. Covers the "done when" and the release-safety cases.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  fixtureCopy,
  loadGenerator,
  nodeOnlyConfig,
  PlatformProcess,
  removeFixtureCopies,
} from './platform-harness.test-helper.js';

describe('platform end to end (CLI → API → build → release → dynos → router)', function () {
  this.timeout(300_000);
  let dataDir: string;
  let p: PlatformProcess;
  let src: string;
  let args: string[];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'slipway-e2e-'));
    args = ['--config', await nodeOnlyConfig(await mkdtemp(join(tmpdir(), 'slipway-cfg-')))];
    p = await PlatformProcess.start(dataDir, args);
    src = await fixtureCopy('hello', { VERSION: 'one' });
  });
  after(async () => {
    await p?.kill('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  it('creates, deploys, scales, sets config, lists releases, rolls back and shows logs', async () => {
    expect(await p.ok(['apps:create', 'wf'])).to.match(/Creating wf\.\.\. done/);
    const apps = JSON.parse(await p.ok(['apps', '--json']));
    expect(apps.map((a: { name: string }) => a.name)).to.include('wf');

    const deploy = await p.ok(['deploy', src, '-a', 'wf']);
    expect(deploy).to.match(/Node\.js app detected/);
    expect(deploy).to.match(/Deployed wf v1/);
    expect((await p.hello('wf')).version).to.equal('one');

    await p.ok(['ps:scale', 'web=2', '-a', 'wf']);
    const ps = JSON.parse(await p.ok(['ps', '-a', 'wf', '--json']));
    expect(ps.formation.find((f: { type: string }) => f.type === 'web').quantity).to.equal(2);
    expect(
      ps.dynos.filter((d: { state: string; type: string }) => d.type === 'web' && d.state === 'up'),
    ).to.have.length(2);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add((await p.hello('wf')).dyno);
    expect([...seen].sort()).to.deep.equal(['web.1', 'web.2']);

    await p.ok(['config:set', 'GREETING=howdy', '-a', 'wf']);
    expect((await p.hello('wf')).greeting).to.equal('howdy');
    expect(JSON.parse(await p.ok(['config', '-a', 'wf', '--json']))).to.deep.equal({ GREETING: 'howdy' });

    const releases = JSON.parse(await p.ok(['releases', '-a', 'wf', '--json']));
    expect(releases.map((r: { version: number }) => r.version)).to.deep.equal([1, 2]);
    expect(releases[1].description).to.match(/Set GREETING/);
    expect(releases[1].current).to.equal(true);

    expect(await p.ok(['rollback', 'v1', '-a', 'wf'])).to.match(/Rollback to v1/);
    expect((await p.hello('wf')).greeting).to.equal('hello');
    expect(JSON.parse(await p.ok(['config', '-a', 'wf', '--json']))).to.deep.equal({});

    const logs = await p.ok(['logs', '-a', 'wf', '-n', '1500']);
    expect(logs).to.match(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 app\[web\.1\]: hello one listening/m,
    );
    expect(logs).to.match(/ slipway\[router\]: at=info method=GET path="\/"/);
    expect(logs).to.match(/ slipway\[api\]: Release v3 created: Rollback to v1/);
    const onlyApp = await p.ok(['logs', '-a', 'wf', '--source', 'app', '--dyno', 'web.2']);
    expect(
      onlyApp
        .trim()
        .split('\n')
        .every((l) => l.includes(' app[web.2]: ')),
    ).to.equal(true);
  });

  it('streams new lines with logs --tail', async () => {
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('./platform-harness.test-helper.js');
    const tail = spawn(
      process.execPath,
      [CLI, 'logs', '-a', 'wf', '-n', '1', '--tail', '--source', 'slipway', '--dyno', 'router'],
      {
        env: { ...process.env, SLIPWAY_DATA_DIR: dataDir, SLIPWAY_API_URL: '', SLIPWAY_TOKEN: '' },
      },
    );
    let out = '';
    tail.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((r) => setTimeout(r, 800));
    await p.get('wf', '/tailed-path');
    const deadline = Date.now() + 10_000;
    while (!out.includes('path="/tailed-path"') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    tail.kill('SIGINT');
    expect(out).to.include('path="/tailed-path"');
  });

  it('keeps serving the old release when the build fails or nothing is detected', async () => {
    const before = await p.hello('wf');
    const broken = await fixtureCopy('hello', { 'package.json': '{ not json' });
    const r1 = await p.cli(['deploy', broken, '-a', 'wf']);
    expect(r1.code).to.not.equal(0);
    expect(r1.stdout + r1.stderr).to.match(/Build failed|failed/);
    const empty = await mkdtemp(join(tmpdir(), 'slipway-empty-'));
    await writeFile(join(empty, 'README.md'), 'nothing to build here\n');
    const r2 = await p.cli(['deploy', empty, '-a', 'wf']);
    expect(r2.code).to.not.equal(0);
    expect(r2.stdout + r2.stderr).to.match(/no buildpack detected/);
    const afterwards = await p.hello('wf');
    expect([afterwards.version, afterwards.greeting]).to.deep.equal([before.version, before.greeting]);
    const releases = JSON.parse(await p.ok(['releases', '-a', 'wf', '--json']));
    expect(releases.at(-1).version).to.equal(3);
  });

  it('marks a release failed when its release phase fails, and the old release keeps serving', async () => {
    const bad = await fixtureCopy('hello', {
      VERSION: 'never',
      Procfile: 'web: node server.js\nrelease: node -e "console.log(\'migrating\'); process.exit(3)"\n',
    });
    const r = await p.cli(['deploy', bad, '-a', 'wf']);
    expect(r.code).to.not.equal(0);
    expect(r.stdout + r.stderr).to.match(/release phase of v4 failed with exit code 3/);
    expect((await p.hello('wf')).version).to.equal('one');
    const releases = JSON.parse(await p.ok(['releases', '-a', 'wf', '--json']));
    expect(releases.at(-1)).to.include({ version: 4, status: 'failed' });
    expect(releases.find((x: { current: boolean }) => x.current).version).to.equal(3);
    const logs = await p.ok(['logs', '-a', 'wf', '--dyno', 'release', '-n', '50']);
    expect(logs).to.match(/app\[release\.\d+\]: migrating/);
  });

  it('finishes ten deploys under continuous HTTP load with zero failed requests', async () => {
    const load = loadGenerator(p, 'wf', 2);
    for (let i = 1; i <= 10; i++) {
      await writeFile(join(src, 'VERSION'), `load-${i}`);
      await p.ok(['deploy', src, '-a', 'wf']);
      expect((await p.hello('wf')).version).to.equal(`load-${i}`);
    }
    const stats = await load.stop();
    expect(stats.failures.slice(0, 5)).to.deep.equal([]);
    expect(stats.failed).to.equal(0);
    expect(stats.ok).to.be.greaterThan(100);
  });

  it('survives SIGKILL of the platform: state, formation and serving come back', async () => {
    const releasesBefore = JSON.parse(await p.ok(['releases', '-a', 'wf', '--json']));
    await p.kill('SIGKILL');
    p = await PlatformProcess.start(dataDir, args);
    const deadline = Date.now() + 30_000;
    let answer: { version: string } | undefined;
    while (Date.now() < deadline) {
      answer = await p.hello('wf').catch(() => undefined);
      if (answer) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(answer?.version).to.equal('load-10');
    expect(JSON.parse(await p.ok(['releases', '-a', 'wf', '--json']))).to.deep.equal(releasesBefore);
    const ps = JSON.parse(await p.ok(['ps', '-a', 'wf', '--json']));
    expect(ps.dynos.filter((d: { type: string }) => d.type === 'web')).to.have.length(2);
  });

  it('restarts dynos with ps:restart and destroys the app with apps:destroy', async () => {
    const before = JSON.parse(await p.ok(['ps', '-a', 'wf', '--json'])).dynos.map(
      (d: { id: string }) => d.id,
    );
    await p.ok(['ps:restart', 'web', '-a', 'wf']);
    // New dynos take over first; the old ones then drain and stop.
    let after: { id: string; state: string }[] = [];
    for (
      const deadline = Date.now() + 15_000;
      Date.now() < deadline;
      await new Promise((r) => setTimeout(r, 200))
    ) {
      after = JSON.parse(await p.ok(['ps', '-a', 'wf', '--json'])).dynos.filter(
        (d: { state: string }) => d.state === 'up',
      );
      if (after.length === 2 && !after.some((d) => before.includes(d.id))) break;
    }
    expect(after).to.have.length(2);
    expect(after.map((d: { id: string }) => d.id).some((id: string) => before.includes(id))).to.equal(false);
    expect((await p.hello('wf')).version).to.equal('load-10');

    const refused = await p.cli(['apps:destroy', '-a', 'wf']);
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.match(/--confirm wf/);
    await p.ok(['apps:destroy', '-a', 'wf', '--confirm', 'wf']);
    expect((await p.get('wf')).status).to.equal(404);
    expect(JSON.parse(await p.ok(['apps', '--json']))).to.deep.equal([]);
  });
});
