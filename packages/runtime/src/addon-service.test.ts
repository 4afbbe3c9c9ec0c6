/** Add-ons through the API: provisioning via the kernel hooks sets config vars in a release. */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type Platform, startPlatform } from './platform.js';
import { apiCaller } from './platform-harness.test-helper.js';

const ECHO = fileURLToPath(new URL('../test/fixtures/echo-addon/index.mjs', import.meta.url));

describe('add-ons through the API', function () {
  this.timeout(60_000);
  let dir: string;
  let p: Platform;
  const call = apiCaller(() => p);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-addon-'));
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'slipway.config.json'), JSON.stringify({ defaults: false, plugins: [ECHO] }));
    p = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile: join(dir, 'slipway.config.json'),
    });
    expect((await call('POST', '/apps', { name: 'addy' })).status).to.equal(201);
  });
  after(async () => {
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('attaches an add-on: config vars set in a new release; detaching unsets them in another', async () => {
    const a = await call('POST', '/apps/addy/addons', { plan: 'echo:large', name: 'CACHE' });
    expect(a.status).to.equal(201);
    expect(a.json).to.deep.include({
      name: 'CACHE',
      plan: { name: 'echo:large' },
      config_vars: ['CACHE_URL'],
    });
    expect((await call('GET', '/apps/addy/config-vars')).json).to.deep.equal({
      CACHE_URL: 'echo://addy/large',
    });
    const dflt = await call('POST', '/apps/addy/addons', { plan: 'echo' });
    expect(dflt.json.plan.name).to.equal('echo:small');
    const dup = await call('POST', '/apps/addy/addons', { plan: 'echo', name: 'CACHE' });
    expect(dup.status).to.equal(422);
    const unknown = await call('POST', '/apps/addy/addons', { plan: 'nosuch:plan' });
    expect(unknown.status).to.equal(422);
    expect(unknown.json.hint).to.match(/echo/);
    expect((await call('DELETE', '/apps/addy/addons/CACHE')).status).to.equal(200);
    expect((await call('GET', '/apps/addy/config-vars')).json).to.deep.equal({
      ECHO_URL: 'echo://addy/small',
    });
    const rel = (await call('GET', '/apps/addy/releases')).json.map(
      (r: { description: string }) => r.description,
    );
    expect(rel).to.deep.equal(['Set CACHE_URL config vars', 'Set ECHO_URL config vars', 'Unset CACHE_URL']);
  });

  it('deprovisions add-ons when the app is destroyed', async () => {
    expect((await call('DELETE', '/apps/addy')).status).to.equal(200);
    expect((await call('GET', '/apps')).json).to.deep.equal([]);
  });
});
