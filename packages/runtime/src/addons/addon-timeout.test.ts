/**
 * A provider that answers after the platform gave up: the create fails with the provider's
 * name, nothing is attached, and the resource it made late is deprovisioned.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kernel, Plugin } from '@slipway/core';
import { expect } from 'chai';
import { type Platform, startPlatform } from '../platform.js';

/** A provider that takes `delayMs` to provision; remembers what exists. */
function slowProvider(delayMs: number, live: Set<string>, made: string[]): Plugin {
  return {
    name: 'slow-provider',
    apply(kernel: Kernel) {
      kernel.catalog.addons.set('slow', {
        service: 'slow',
        name: 'Slow',
        plugin: 'slow-provider',
        plans: [{ name: 'dev', default: true }],
        configVars: ['SLOW_URL'],
      });
      kernel.hooks.provision.for('slow').tapPromise('slow-provider', async (req) => {
        await new Promise((r) => setTimeout(r, delayMs));
        live.add(req.uuid);
        made.push(req.uuid);
        return { id: req.uuid, config: { SLOW_URL: `slow://${req.uuid}` } };
      });
      kernel.hooks.deprovision.for('slow').tapPromise('slow-provider', async (req) => {
        live.delete(req.id);
      });
    },
  };
}

describe('add-on provider timeout', function () {
  this.timeout(60_000);
  let dir: string;
  let p: Platform;
  const live = new Set<string>();
  const made: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-addon-timeout-'));
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'slipway.config.json'), JSON.stringify({ defaults: false, plugins: [] }));
    p = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile: join(dir, 'slipway.config.json'),
      plugins: [slowProvider(600, live, made)],
      addonTimeoutMs: 150,
    });
  });
  after(async () => {
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails naming the provider, attaches nothing, and deprovisions what the provider made late', async () => {
    const call = (method: string, path: string, body?: unknown) =>
      fetch(new URL(path, p.apiUrl), {
        method,
        headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));
    await call('POST', '/apps', { name: 'slowpoke' });
    const r = await call('POST', '/apps/slowpoke/addons', { plan: 'slow' });
    expect(r.status).to.equal(502);
    expect(r.json.message).to.equal(
      'add-on provider slow-provider failed to provision slow: no answer within 150 ms',
    );
    expect((await call('GET', '/apps/slowpoke/addons')).json).to.deep.equal([]);
    expect((await call('GET', '/apps/slowpoke/config-vars')).json).to.deep.equal({});
    expect((await call('GET', '/apps/slowpoke/releases')).json).to.deep.equal([]);
    // The provider finishes late; the platform takes that resource back.
    for (let i = 0; i < 60 && (made.length === 0 || live.size > 0); i++)
      await new Promise((res) => setTimeout(res, 50));
    expect(made).to.have.length(1);
    expect(live.size).to.equal(0);
  });
});
