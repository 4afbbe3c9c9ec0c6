/**
 * app.json setup end to end (real platform in-process, the echo add-on fixture as provider,
 * the real CLI and the real git client): `apps:create --manifest` applies env with a
 * generated secret, formation and add-ons, a `git push` brings the app up and postdeploy runs
 * once; refusals (missing required env, bad schema, failing add-on) leave no app behind; sizes
 * and plans the platform lacks become the nearest ones with warnings; a push never applies
 * app.json.
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
    await writeFile(join(dir, 'slipway.config.json'), JSON.stringify({ plugins: [NODEJS, ECHO] }));
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

  it('takes the nearest size and plan for ones the platform lacks, with warnings; aliases reach the provider', async () => {
    const r = await call('POST', '/app-setups', {
      name: 'nearby',
      manifest: {
        formation: { web: { quantity: 1, size: 'Shield-L' }, worker: { quantity: 0, size: 'Fir-9000' } },
        addons: ['echo:premium-0'],
      },
    });
    expect(r.status, JSON.stringify(r.json)).to.equal(201);
    expect(r.json.warnings).to.deep.equal([
      'size shield-l of web is not offered here: using performance-l',
      'size fir-9000 of worker is not offered here: using standard-1x',
      'add-on echo:premium-0: plan premium-0 is unknown to echo: using its default plan small instead',
    ]);
    const addons = (await call('GET', '/apps/nearby/addons')).json as { plan: { name: string } }[];
    expect(addons.map((a) => a.plan.name)).to.deep.equal(['echo:small']);
    expect(await logs('nearby')).to.include('app.json: size shield-l of web is not offered here');
  });

  it('a push never applies app.json, as on Heroku: required env, add-ons and sizes it lists do not stop it', async () => {
    expect((await call('POST', '/apps', { name: 'firsty' })).status).to.equal(201);
    const files = {
      'app.json': JSON.stringify({
        ...manifest,
        formation: { web: { quantity: 1, size: 'Shield-XL' } },
        addons: ['heroku-postgresql', 'nosuch:plan'],
      }),
      VERSION: 'firsty-1',
    };
    const ok = await push('firsty', files);
    expect(ok.code, ok.out).to.equal(0);
    expect(await serve('firsty')).to.include({ version: 'firsty-1' });
    expect((await call('GET', '/apps/firsty/addons')).json).to.have.length(0);
    const config = (await call('GET', '/apps/firsty/config-vars')).json;
    expect(config).to.not.have.property('SECRET_KEY');
    expect((await call('GET', '/apps/firsty/app-setup')).status).to.equal(404);
  });
});
