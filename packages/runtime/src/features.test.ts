/**
 * The platform's features as plugins, on real in-process platforms: a config file that disables
 * the drains plugin leaves no drains routes (a coded 404), no drains table and no drains in
 * /openapi.json, while apps, deploys, domains and maintenance work; one that disables maintenance
 * refuses the flag with a coded error; and a plugin of the same name from a directory outside
 * the repository replaces the drains plugin, its route group served under the same prefix.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { packDir } from './demo.js';
import { type Platform, startPlatform } from './platform.js';
import {
  apiCaller,
  eventually,
  fixtureCopy,
  removeFixtureCopies,
  servedVersion,
} from './platform-harness.test-helper.js';

const NODEJS = fileURLToPath(new URL('../../buildpacks/nodejs', import.meta.url));

describe('features as plugins: disable or replace one by config', function () {
  this.timeout(180_000);
  let dir: string;
  let p: Platform | undefined;
  const call = apiCaller(() => p as Platform);
  const start = async (name: string, config: object): Promise<Platform> => {
    const file = join(dir, name, 'slipway.config.json');
    await writeFile(file, JSON.stringify({ defaults: false, plugins: [NODEJS], ...config }));
    p = await startPlatform({
      dataDir: join(dir, name, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile: file,
    });
    return p;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-features-'));
    await chmod(dir, 0o755); // dynos run as nobody when tests run as root
    for (const d of ['no-drains', 'no-maintenance', 'own-drains']) await mkdir(join(dir, d));
  });
  afterEach(async () => {
    await p?.stop();
    p = undefined;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  it('without slipway-drains: drains routes answer a coded 404, everything else works', async () => {
    const platform = await start('no-drains', { disable: ['slipway-drains'] });
    expect(platform.kernel.plugins).to.not.include('slipway-drains');
    expect(platform.kernel.plugins).to.include.members(['slipway-domains', 'slipway-one-offs']);
    expect((await call('POST', '/apps', { name: 'plain' })).status).to.equal(201);

    for (const [method, path] of [
      ['GET', '/apps/plain/log-drains'],
      ['POST', '/apps/plain/log-drains'],
      ['DELETE', '/apps/plain/log-drains/x'],
    ] as const) {
      const r = await call(
        method,
        path,
        method === 'POST' ? { url: 'https://logs.example.com/x' } : undefined,
      );
      expect(r.status, `${method} ${path}`).to.equal(404);
      expect(r.json.code).to.equal('SLIPWAY_ERR_RUNTIME_ROUTE');
    }
    // The plugin's table was never made.
    const tables = platform.state.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((r) => (r as { name: string }).name);
    expect(tables).to.include('apps').and.not.include('drains');
    const doc = (await (await fetch(`${platform.apiUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { tags?: string[] }>>;
    };
    expect(doc.paths).to.not.have.property('/apps/{app}/log-drains');
    expect(doc.paths['/apps/{app}/domains']?.post?.tags).to.deep.equal(['domains']);
    expect(doc.paths['/apps/{app}/dynos']?.post?.tags).to.deep.equal(['one-off-dynos']);

    // The rest of the platform: a deploy serves, a domain is added, maintenance answers H80.
    const archive = await readFile(await packDir(await fixtureCopy('hello', { VERSION: 'nodrains' })));
    const build = await fetch(`${platform.apiUrl}/apps/plain/builds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.token}` },
      body: archive,
    });
    expect(build.status).to.equal(201);
    expect(
      await eventually(
        async () => (await servedVersion(platform.routerPort, 'plain')) === 'nodrains',
        120_000,
      ),
    ).to.be.true;
    expect((await call('POST', '/apps/plain/domains', { hostname: 'www.plain.example' })).status).to.equal(
      201,
    );
    expect((await call('PATCH', '/apps/plain', { maintenance: true })).json.maintenance).to.equal(true);
    expect(await servedVersion(platform.routerPort, 'plain')).to.equal('HTTP 503');
  });

  it('without slipway-maintenance: the flag is refused with a coded error, nothing changes', async () => {
    await start('no-maintenance', { disable: ['slipway-maintenance'] });
    expect((await call('POST', '/apps', { name: 'steady' })).status).to.equal(201);
    const r = await call('PATCH', '/apps/steady', { maintenance: true, name: 'renamed' });
    expect(r.status).to.equal(422);
    expect(r.json.code).to.equal('SLIPWAY_ERR_MAINTENANCE_DISABLED');
    expect(r.json.hint).to.include('slipway-maintenance');
    const after = await call('GET', '/apps/steady');
    expect(after.json).to.include({ name: 'steady', maintenance: false });
    // A rename alone still works.
    expect((await call('PATCH', '/apps/steady', { name: 'renamed' })).json.name).to.equal('renamed');
  });

  it('a config plugin named slipway-drains, outside the repository, replaces the drains plugin', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'slipway-own-drains-'));
    try {
      const plugin = join(outside, 'own-drains.mjs');
      await writeFile(
        plugin,
        `export default {
  name: 'slipway-drains',
  register(reg) {
    reg.apiRoutes({
      name: 'own-drains',
      prefix: '/apps/:app/log-drains',
      routes({ on }) {
        on('GET', '', async (_req, res, params) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify([{ url: 'own://' + params.app }]));
        });
      },
    });
  },
};
`,
      );
      const platform = await start('own-drains', { plugins: [NODEJS, plugin] });
      expect((await call('POST', '/apps', { name: 'mine' })).status).to.equal(201);
      const r = await call('GET', '/apps/mine/log-drains');
      expect(r.status).to.equal(200);
      expect(r.json).to.deep.equal([{ url: 'own://mine' }]);
      // The built-in drains plugin is not there: no POST route, no table.
      expect((await call('POST', '/apps/mine/log-drains', { url: 'https://x.example/' })).status).to.equal(
        405,
      );
      expect(
        platform.state.db.prepare("SELECT name FROM sqlite_master WHERE name = 'drains'").get(),
      ).to.equal(undefined);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
