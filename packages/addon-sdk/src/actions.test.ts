/**
 * Provider actions in a real Kernel: the catalogue entry carries them, a call reaches the
 * handler with the provider's own record and checked input, and every mistake is coded.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AddonActionRequest, isSlipwayError, Kernel } from '@slipway/core';
import { expect } from 'chai';
import { defineAddon } from './define-addon.js';
import { captureLog, dirProvider } from './provider-fixture.test.js';

/** The directory provider with two actions on its resources' token files. */
const withActions = () =>
  dirProvider({
    actions: {
      'token:show': {
        description: "the resource's token, read from its directory",
        readOnly: true,
        run: async (req, ctx) => ({
          id: req.resource.id,
          token: await readFile(join(ctx.dataDir, req.resource.id, 'token'), 'utf8'),
          url: req.resource.config.DIRKV_URL,
          attachment: req.addon.name,
        }),
      },
      'token:check': {
        description: 'compare a token',
        inputSchema: {
          type: 'object',
          required: ['token'],
          additionalProperties: false,
          properties: { token: { type: 'string', minLength: 8 }, strict: { type: 'boolean', default: true } },
        },
        run: (req) => ({ given: req.input.token, strict: req.input.strict }),
      },
    },
  });

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isSlipwayError(e) ? e.code : String(e);
  }
  return undefined;
}

describe('addon-sdk provider actions', () => {
  let dataDir: string;
  let kernel: Kernel;
  let resource: string;
  const call = (action: string, input: Record<string, unknown> = {}, res = resource) => {
    const entry = kernel.catalog.addons.get('dirkv')?.actions?.get(action);
    if (!entry) throw new Error(`no catalogue entry for ${action}`);
    const req: AddonActionRequest = {
      app: 'app-1',
      addon: { id: 'a-1', name: 'PRIMARY', service: 'dirkv', plan: 'small', resource: res, createdAt: 'now' },
      input,
    };
    return entry.run(req);
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'addon-sdk-actions-'));
    kernel = new Kernel();
    await kernel.use(defineAddon(withActions(), { log: captureLog().write }), { dataDir });
    await kernel.start();
    const r = await kernel.hooks.provision.for('dirkv').promise({
      service: 'dirkv',
      plan: 'small',
      uuid: 'uuid-1',
      app: 'app-1',
      name: 'PRIMARY',
      options: {},
    });
    resource = r!.id;
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('puts the actions in the catalogue entry, with a no-input schema where none is declared', () => {
    const actions = kernel.catalog.addons.get('dirkv')?.actions;
    expect([...(actions?.keys() ?? [])]).to.deep.equal(['token:show', 'token:check']);
    expect(actions?.get('token:show')).to.deep.include({ readOnly: true });
    expect(actions?.get('token:show')?.inputSchema).to.deep.include({ additionalProperties: false });
    expect(actions?.get('token:check')?.readOnly).to.equal(undefined);
  });

  it("runs a handler with the provider's own record of the resource", async () => {
    const shown = (await call('token:show')) as Record<string, string>;
    expect(shown.id).to.equal(resource);
    expect(shown.url).to.include(shown.token);
    expect(shown.attachment).to.equal('PRIMARY');
    expect(await call('token:check', { token: 'abcdefgh' })).to.deep.equal({
      given: 'abcdefgh',
      strict: true,
    });
  });

  it('refuses bad input, unknown resources and badly named actions with coded errors', async () => {
    expect(await codeOf(call('token:check', { token: 'short' }))).to.equal('SLIPWAY_ERR_ADDON_ACTION_INPUT');
    expect(await codeOf(call('token:show', { extra: 1 }))).to.equal('SLIPWAY_ERR_ADDON_ACTION_INPUT');
    expect(await codeOf(call('token:show', {}, 'kv-gone'))).to.equal('SLIPWAY_ERR_ADDON_UNKNOWN_RESOURCE');
    const bad = () =>
      defineAddon(dirProvider({ actions: { 'Bad Name': { description: 'x', run: () => 1 } } }));
    expect(bad).to.throw(/actions\.Bad Name must be lower-case words/);
  });
});
