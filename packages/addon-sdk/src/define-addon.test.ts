import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSlipwayError, Kernel, type ProvisionRequest } from '@slipway/core';
import { expect } from 'chai';
import { defineAddon } from './define-addon.js';
import { captureLog, dirProvider } from './provider-fixture.test.js';

async function rejects(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('addon-sdk defineAddon in a real Kernel', () => {
  let dataDir: string;
  const req = (over: Partial<ProvisionRequest> = {}): ProvisionRequest => ({
    service: 'dirkv',
    plan: 'small',
    uuid: 'uuid-1',
    app: 'app-1',
    name: '',
    options: {},
    ...over,
  });

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'addon-sdk-define-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  async function kernelWith(def = dirProvider()) {
    const log = captureLog();
    const plugin = defineAddon(def, { log: log.write });
    const kernel = new Kernel();
    await kernel.use(plugin, { dataDir });
    await kernel.start();
    return { kernel, plugin, def, log };
  }

  it('registers the add-on in the catalog and creates its data dir', async () => {
    const { kernel } = await kernelWith();
    const entry = kernel.catalog.addons.get('dirkv');
    expect(entry).to.deep.include({ service: 'dirkv', name: 'Directory KV', plugin: 'addon-dirkv' });
    expect(entry?.configVars).to.deep.equal(['DIRKV_URL', 'DIRKV_TOKEN', 'KV_URL']);
    expect(entry?.plans.map((p) => p.name)).to.deep.equal(['small', 'large']);
    expect((await stat(join(dataDir, 'addons', 'dirkv'))).isDirectory()).to.equal(true);
  });

  it('provisions with attachment naming: --as PRIMARY renames prefixed vars and keeps aliases', async () => {
    const { kernel } = await kernelWith();
    const r = await kernel.hooks.provision.for('dirkv').promise(req({ name: 'PRIMARY' }));
    expect(Object.keys(r!.config).sort()).to.deep.equal(['KV_URL', 'PRIMARY_TOKEN', 'PRIMARY_URL']);
    expect(r!.config.PRIMARY_URL).to.equal(r!.config.KV_URL);
    const d = await kernel.hooks.provision.for('dirkv').promise(req({ uuid: 'uuid-2' }));
    expect(Object.keys(d!.config).sort()).to.deep.equal(['DIRKV_TOKEN', 'DIRKV_URL', 'KV_URL']);
    expect(d!.id).not.to.equal(r!.id);
  });

  it('is idempotent on uuid, also across a restart, and deprovision is idempotent', async () => {
    const { kernel, def } = await kernelWith();
    const a = await kernel.hooks.provision.for('dirkv').promise(req());
    const [b, c] = await Promise.all([
      kernel.hooks.provision.for('dirkv').promise(req()),
      kernel.hooks.provision.for('dirkv').promise(req()),
    ]);
    expect(b).to.deep.equal(a);
    expect(c).to.deep.equal(a);
    expect(def.calls.provision).to.equal(1);

    const restarted = await kernelWith(dirProvider());
    const again = await restarted.kernel.hooks.provision.for('dirkv').promise(req());
    expect(again).to.deep.equal(a);
    expect(restarted.def.calls.provision).to.equal(0);

    const dreq = { service: 'dirkv', uuid: 'uuid-1', id: a!.id, app: 'app-1' };
    await restarted.kernel.hooks.deprovision.for('dirkv').promise(dreq);
    await restarted.kernel.hooks.deprovision.for('dirkv').promise(dreq);
    expect(restarted.def.calls.deprovision).to.equal(1);
    const fresh = await restarted.kernel.hooks.provision.for('dirkv').promise(req());
    expect(fresh!.config.DIRKV_TOKEN).not.to.equal(a!.config.DIRKV_TOKEN);
  });

  it('changes plans, keeping config when the provider returns none', async () => {
    const { kernel, def } = await kernelWith();
    const a = await kernel.hooks.provision.for('dirkv').promise(req({ name: 'CACHE' }));
    const p = await kernel.hooks.planChange
      .for('dirkv')
      .promise({ service: 'dirkv', uuid: 'uuid-1', id: a!.id, app: 'app-1', plan: 'large' });
    expect(p).to.deep.equal(a);
    expect(def.calls.planChange).to.equal(1);
    const e = await rejects(
      kernel.hooks.planChange
        .for('dirkv')
        .promise({ service: 'dirkv', uuid: 'uuid-1', id: a!.id, app: 'a', plan: 'huge' }),
    );
    expect(e.code).to.equal('SLIPWAY_ERR_ADDON_PLAN_UNKNOWN');
    expect(e.message).to.contain('huge');
    expect(e.hint).to.contain('small, large');
  });

  it('refuses undeclared or malformed config with a coded error naming the plugin', async () => {
    const bad = dirProvider({
      provision: () => ({ id: 'x-1', config: { SECRET_KEY: 'abc' } }),
    });
    const { kernel } = await kernelWith(bad);
    const e = await rejects(kernel.hooks.provision.for('dirkv').promise(req()));
    expect(isSlipwayError(e, 'SLIPWAY_ERR_ADDON_CONFIG_UNDECLARED')).to.equal(true);
    expect(e.plugin).to.equal('addon-dirkv');
    expect(e.message).to.contain('SECRET_KEY');

    const badUrl = dirProvider({ provision: () => ({ id: 'x-2', config: { DIRKV_URL: '/just/a/path' } }) });
    const k2 = await kernelWith(badUrl);
    expect((await rejects(k2.kernel.hooks.provision.for('dirkv').promise(req()))).code).to.equal(
      'SLIPWAY_ERR_ADDON_CONFIG_VALUE',
    );
  });

  it('validates provider options through the kernel and passes them, defaults applied', async () => {
    const seen: unknown[] = [];
    const def = dirProvider({
      optionsSchema: {
        type: 'object',
        properties: { size: { type: 'integer', default: 3 } },
        additionalProperties: false,
      },
      setup: (ctx) => {
        seen.push(ctx.options);
        return 'state';
      },
    });
    const kernel = new Kernel();
    const e = await rejects(kernel.use(defineAddon(def), { dataDir, size: 'big' } as any));
    expect(e.code).to.equal('SLIPWAY_ERR_PLUGIN_OPTIONS');
    await (await new Kernel().use(defineAddon(def), { dataDir })).start();
    expect(seen).to.deep.equal([{ size: 3 }]);
  });

  it('refuses an invalid definition when it is defined', () => {
    let err: any;
    try {
      defineAddon(dirProvider({ configVars: ['database_url'] }));
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal('SLIPWAY_ERR_ADDON_MANIFEST');
  });

  it('stops its supervised servers when the kernel closes', async () => {
    let pid = 0;
    const def = dirProvider({
      setup: async (ctx) => {
        const child = await ctx.supervise({ name: 'sleeper', command: 'sleep', args: ['60'] });
        pid = child.pid!;
        return 'state';
      },
    });
    const kernel = new Kernel();
    await kernel.use(defineAddon(def), { dataDir });
    await kernel.start();
    expect(() => process.kill(pid, 0)).to.not.throw();
    await kernel.close();
    const deadline = Date.now() + 5000;
    let alive = true;
    while (alive && Date.now() < deadline) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 50));
      } catch {
        alive = false;
      }
    }
    expect(alive).to.equal(false, 'the supervised process is stopped by kernel.close()');
  });
});
