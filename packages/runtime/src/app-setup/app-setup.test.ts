/**
 * app.json setup end to end (real platform in-process, the echo add-on fixture as provider,
 * the real CLI and the real git client): `apps:create --manifest` applies env with a
 * generated secret, formation and add-ons, a `git push` brings the app up and postdeploy runs
 * once; refusals (missing required env, bad schema, failing add-on) leave no app behind; the
 * first push of a repo with app.json applies it too.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type Platform, startPlatform } from '../platform.js';
import { CLI, eventually, fixtureCopy, removeFixtureCopies } from '../platform-harness.test-helper.js';

const ECHO = fileURLToPath(new URL('../../test/fixtures/echo-addon/index.mjs', import.meta.url));
const NODEJS = fileURLToPath(new URL('../../../buildpacks/nodejs', import.meta.url));

interface Run {
  code: number;
  out: string;
}

describe('app.json setup (real platform, CLI and git)', function () {
  this.timeout(240_000);
  let dir: string;
  let home: string;
  let p: Platform;

  const exec = (file: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) =>
      execFile(
        file,
        args,
        { cwd, maxBuffer: 16 << 20, env: { ...process.env, HOME: home, GIT_TERMINAL_PROMPT: '0', ...env } },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
  const slipway = (args: string[]) =>
    exec(process.execPath, [CLI, ...args], dir, { SLIPWAY_API_URL: p.apiUrl, SLIPWAY_TOKEN: p.token });
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(new URL(path, p.apiUrl), {
      method,
      headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, json: (await r.json()) as any };
  };
  const push = async (app: string, files: Record<string, string>): Promise<Run> => {
    const repo = await fixtureCopy('hello', files);
    const g = (args: string[]) =>
      exec('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], repo);
    await g(['init', '-q', '-b', 'main']);
    await g(['add', '-A']);
    await g(['commit', '-q', '-m', 'app']);
    return g([
      'push',
      '--force',
      `${p.apiUrl.replace('http://', `http://git:${p.token}@`)}/${app}.git`,
      'main',
    ]);
  };
  const serve = (app: string) =>
    new Promise<any>((resolve, reject) => {
      request(
        { port: p.routerPort, host: '127.0.0.1', path: '/', headers: { host: `${app}.localhost` } },
        (res) => {
          let t = '';
          res.on('data', (c: Buffer) => (t += c.toString()));
          res.on('end', () => resolve(res.statusCode === 200 ? JSON.parse(t) : { status: res.statusCode }));
        },
      )
        .on('error', reject)
        .end();
    });
  const logs = async (app: string) =>
    (
      await fetch(new URL(`/apps/${app}/logs?n=500`, p.apiUrl), {
        headers: { authorization: `Bearer ${p.token}` },
      })
    ).text();

  const manifest = {
    name: 'setup',
    env: {
      GREETING: { description: 'what the app says', required: true },
      SECRET_KEY: { generator: 'secret' },
      MODE: 'production',
    },
    formation: { web: { quantity: 2 } },
    addons: [{ plan: 'echo:large', as: 'CACHE' }],
    scripts: { postdeploy: 'node -e "console.log(\'postdeploy ran for \' + process.env.GREETING)"' },
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-setup-'));
    await chmod(dir, 0o755);
    home = join(dir, 'home');
    await mkdir(home);
    await writeFile(
      join(dir, 'slipway.config.json'),
      JSON.stringify({ defaults: false, plugins: [NODEJS, ECHO] }),
    );
    await writeFile(join(dir, 'app.json'), JSON.stringify(manifest));
    p = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile: join(dir, 'slipway.config.json'),
      bootTimeoutMs: 5000,
      stopGraceMs: 1000,
    });
  });
  after(async () => {
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  it('refuses a manifest whose required env is not given, naming the keys; no app is left', async () => {
    const r = await slipway(['apps:create', 'setup', '--manifest', 'app.json']);
    expect(r.code).to.not.equal(0);
    expect(r.out).to.match(/app\.json requires GREETING, which were not given/);
    expect(r.out).to.include('--env GREETING=');
    expect((await call('GET', '/apps/setup')).status).to.equal(404);
  });

  it('refuses a manifest that fails its schema, and one whose add-on fails, leaving nothing', async () => {
    const bad = await call('POST', '/app-setups', { name: 'setup', manifest: { env: { 'bad-name': 'x' } } });
    expect(bad.status).to.equal(422);
    expect(bad.json.message).to.match(/app\.json is invalid/);
    const addon = await call('POST', '/app-setups', {
      name: 'setup',
      manifest: { addons: ['echo:small', 'nosuch:plan'] },
    });
    expect(addon.status).to.equal(422);
    expect(addon.json.message).to.match(/failed at addon nosuch:plan/);
    expect((await call('GET', '/apps/setup')).status).to.equal(404);
  });

  it('apps:create --manifest applies env, a generated secret, formation and add-ons; a push brings it up and runs postdeploy once', async () => {
    const r = await slipway(['apps:create', 'setup', '--manifest', 'app.json', '--env', 'GREETING=ahoy']);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(/Generated SECRET_KEY/);
    const config = (await call('GET', '/apps/setup/config-vars')).json;
    expect(config).to.include({ GREETING: 'ahoy', MODE: 'production', CACHE_URL: 'echo://setup/large' });
    expect(config.SECRET_KEY).to.match(/^[0-9a-f]{64}$/);

    const pushed = await push('setup', { VERSION: 'setup-1' });
    expect(pushed.code, pushed.out).to.equal(0);
    expect(await serve('setup')).to.include({ version: 'setup-1', greeting: 'ahoy' });
    const dynos = (await call('GET', '/apps/setup/dynos')).json as { type: string }[];
    expect(dynos.filter((d) => d.type === 'web')).to.have.length(2);
    expect(await eventually(async () => /Postdeploy script exited with status 0/.test(await logs('setup'))))
      .to.be.true;
    expect(await logs('setup')).to.match(/postdeploy ran for ahoy/);
    const setup = await call('GET', '/apps/setup/app-setup');
    expect(setup.status).to.equal(200);
    expect(setup.json).to.deep.include({ status: 'succeeded' });
    expect(setup.json.postdeploy).to.include({ status: 'succeeded', exit_code: 0 });
    expect(setup.json.postdeploy.output).to.match(/postdeploy ran for ahoy/);

    // A second deploy does not run it again.
    const again = await push('setup', { VERSION: 'setup-2' });
    expect(again.code, again.out).to.equal(0);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await logs('setup')).match(/Running postdeploy script/g)).to.have.length(1);
  });

  it('the first push of a repo with app.json applies it; required env missing rejects the push', async () => {
    expect((await call('POST', '/apps', { name: 'firsty' })).status).to.equal(201);
    const none = await call('GET', '/apps/firsty/app-setup');
    expect(none.status).to.equal(404);
    expect(none.json.message).to.equal('an app setup of firsty was not found');
    const files = { 'app.json': JSON.stringify({ ...manifest, formation: {} }), VERSION: 'firsty-1' };
    const refused = await push('firsty', files);
    expect(refused.code).to.not.equal(0);
    expect(refused.out).to.match(/remote: .*app\.json requires GREETING/);
    expect((await call('GET', '/apps/firsty/addons')).json).to.have.length(0);
    expect((await call('PATCH', '/apps/firsty/config-vars', { GREETING: 'hi' })).status).to.equal(200);
    const ok = await push('firsty', files);
    expect(ok.code, ok.out).to.equal(0);
    expect(await serve('firsty')).to.include({ version: 'firsty-1', greeting: 'hi' });
    const config = (await call('GET', '/apps/firsty/config-vars')).json;
    expect(config.SECRET_KEY).to.match(/^[0-9a-f]{64}$/);
    expect(config.CACHE_URL).to.equal('echo://firsty/large');
  });
});
