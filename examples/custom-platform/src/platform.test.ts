import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { composeKernel, type Platform, startPlatform } from '@slipway/runtime';
import { expect } from 'chai';
import { CANARY_PLUGIN } from './canary-plugin.js';
import { startCustomPlatform } from './platform.js';
import { api, appVariant, deploy, eventually, get, PACKAGE_DIR, tempRoot } from './testing/platform.js';

/** Whether `cargo` runs (the Rust buildpack uses the toolchain on PATH). */
const hasCargo = () =>
  new Promise<boolean>((resolve) => execFile('cargo', ['--version'], (err) => resolve(!err)));

interface Hello {
  variant: string;
  dyno: string;
  mail: boolean;
}

/** GET an app through the router and parse its JSON answer; throws unless 200. */
async function hello(p: Platform, app: string, headers: Record<string, string> = {}): Promise<Hello> {
  const r = await get(p.routerPort, `${app}.localhost`, headers);
  if (r.status !== 200)
    throw new Error(`GET ${app} ${JSON.stringify(headers)}: ${r.status} ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body) as Hello;
}

const fast = { routerPort: 0, apiPort: 0, bootTimeoutMs: 30_000, stopGraceMs: 2_000 };

describe('custom platform composed in TypeScript', function () {
  this.timeout(300_000);
  let root: string;
  let platform: Platform;

  before(async () => {
    root = await tempRoot();
    platform = await startCustomPlatform({
      dataDir: join(root, 'data'),
      ...fast,
      canary: { apps: ['shop'] },
    });
    for (const name of ['shop', 'shop-canary']) await api(platform, 'POST', '/apps', { name });
    const [stable, canary] = await Promise.all([appVariant(root, 'stable'), appVariant(root, 'canary')]);
    const dataDir = join(root, 'data');
    await Promise.all([deploy(dataDir, stable, 'shop'), deploy(dataDir, canary, 'shop-canary')]);
  });
  after(async () => {
    await platform?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('has exactly the chosen buildpacks, add-on and route rules', () => {
    expect([...platform.kernel.catalog.buildpacks.keys()]).to.deep.equal(['nodejs', 'rust']);
    expect([...platform.kernel.catalog.addons.keys()]).to.deep.equal(['mail']);
    expect(platform.kernel.hooks.routeRules.taps.map((t) => t.name)).to.include(CANARY_PLUGIN);
    expect(platform.skippedPlugins).to.deep.equal([]);
  });

  it('switches between the app and its canary on X-Canary or the cookie, through the real router', async () => {
    expect((await eventually(() => hello(platform, 'shop'))).variant).to.equal('stable');
    expect((await eventually(() => hello(platform, 'shop-canary'))).variant).to.equal('canary');
    expect((await hello(platform, 'shop', { 'X-Canary': '1' })).variant).to.equal('canary');
    expect((await hello(platform, 'shop', { Cookie: 'session=x; canary=1' })).variant).to.equal('canary');
    expect((await hello(platform, 'shop', { 'X-Canary': '0', Cookie: 'canary=1' })).variant).to.equal(
      'stable',
    );
    // Balanced over many requests: every canary request reaches the canary, no other does.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => hello(platform, 'shop', i % 2 ? { 'X-Canary': '1' } : {})),
    );
    expect(answers.map((a) => a.variant)).to.deep.equal(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? 'canary' : 'stable')),
    );
  });

  it('provisions its one add-on (mail) for the stable app only', async () => {
    await api(platform, 'POST', '/apps/shop/addons', { plan: 'mail' });
    const vars = (await api(platform, 'GET', '/apps/shop/config-vars')) as Record<string, string>;
    expect(vars.SMTP_URL).to.match(/^smtp:\/\/[^:]+:[^@]+@127\.0\.0\.1:\d+$/);
    // The add-on's release restarts the stable app's dynos with SMTP_URL; the canary has none.
    await eventually(async () => expect((await hello(platform, 'shop')).mail).to.equal(true));
    expect((await hello(platform, 'shop', { 'X-Canary': '1' })).mail).to.equal(false);
  });

  it('builds and serves a Rust app with the Rust example buildpack it chose', async function () {
    if (!(await hasCargo())) {
      const why = 'no Rust toolchain on PATH (apt-get install cargo, or rustup)';
      if (process.env.CI === 'true') throw new Error(why);
      console.warn(`\n  !!! SKIPPING the Rust deploy: ${why}\n`);
      this.skip();
    }
    await api(platform, 'POST', '/apps', { name: 'api' });
    const out = await deploy(join(root, 'data'), join(PACKAGE_DIR, 'test', 'fixtures', 'hello-rust'), 'api');
    expect(out).to.include('Rust app detected');
    expect(await eventually(() => hello(platform, 'api'))).to.deep.equal({
      variant: 'rust',
      dyno: 'web.1',
      mail: false,
    });
    // Not in the canary's list: the header changes nothing.
    expect((await hello(platform, 'api', { 'X-Canary': '1' })).variant).to.equal('rust');
  });
});

describe('the same platform from slipway.config.json', function () {
  this.timeout(300_000);
  const configFile = join(PACKAGE_DIR, 'slipway.config.json');
  let root: string;
  let platform: Platform | undefined;

  before(async () => {
    root = await tempRoot();
  });
  after(async () => {
    await platform?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('composes the same buildpacks, add-on and route rules as the TypeScript version', async () => {
    // As the runtime composes it: the mail add-on keeps its data under the platform data dir.
    const { kernel, skipped } = await composeKernel({ configFile, dataDir: join(root, 'compose') });
    expect(skipped).to.deep.equal([]);
    try {
      expect([...kernel.catalog.buildpacks.keys()]).to.deep.equal(['nodejs', 'rust']);
      expect([...kernel.catalog.addons.keys()]).to.deep.equal(['mail']);
      expect(kernel.hooks.routeRules.taps.map((t) => t.name)).to.deep.equal([CANARY_PLUGIN]);
    } finally {
      await kernel.close();
    }
  });

  it('runs under startPlatform({ configFile }) and routes canary requests through the real router', async () => {
    platform = await startPlatform({ dataDir: join(root, 'data'), configFile, ...fast });
    for (const name of ['shop', 'shop-canary']) await api(platform, 'POST', '/apps', { name });
    // Only the canary is deployed: the header decides between "no release" (H81) and the canary.
    await deploy(join(root, 'data'), await appVariant(root, 'canary'), 'shop-canary');
    const canary = await eventually(async () => {
      const r = await get(platform!.routerPort, 'shop.localhost', { 'X-Canary': '1' });
      if (r.status !== 200) throw new Error(`${r.status} ${r.body.slice(0, 200)}`);
      return JSON.parse(r.body) as Hello;
    });
    expect(canary.variant).to.equal('canary');
    const stable = await get(platform.routerPort, 'shop.localhost');
    expect(stable.status).to.equal(503);
    expect(stable.body).to.include('H81');
  });
});
