/**
 * Provider-declared add-on actions through the real API of an in-process platform: a provider
 * the runtime has never heard of declares actions with the add-on SDK, and the generic route
 * lists and runs them on the app's own resource, with the input checked and coded refusals.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AddonDefinition, defineAddon } from '@slipway/addon-sdk';
import { expect } from 'chai';
import { type Platform, startPlatform } from '../platform.js';
import { apiCaller } from '../platform-harness.test-helper.js';

/** A provider keeping a list of notes per resource, with two actions on it. */
function notesProvider(): AddonDefinition<Record<string, unknown>, undefined> {
  const notes = new Map<string, string[]>();
  let n = 0;
  return {
    id: 'notes',
    name: 'Notes',
    plans: ['basic'],
    configVars: ['NOTES_URL'],
    provision() {
      const id = `notes-${++n}`;
      notes.set(id, []);
      return { id, config: { NOTES_URL: `http://notes.test/${id}` } };
    },
    deprovision(req) {
      notes.delete(req.id);
    },
    actions: {
      'notes:list': {
        description: 'the notes of this resource',
        readOnly: true,
        inputSchema: {
          type: 'object',
          additionalProperties: false,
          properties: { prefix: { type: 'string' } },
        },
        run: (req) => ({
          resource: req.resource.id,
          url: req.resource.config.NOTES_URL,
          addon: req.addon.name,
          app: req.app,
          notes: (notes.get(req.resource.id) ?? []).filter((t) =>
            t.startsWith(String(req.input.prefix ?? '')),
          ),
        }),
      },
      'notes:add': {
        description: 'add a note',
        inputSchema: {
          type: 'object',
          required: ['text'],
          additionalProperties: false,
          properties: { text: { type: 'string', minLength: 1 } },
        },
        run(req) {
          notes.get(req.resource.id)?.push(String(req.input.text));
          return { added: req.input.text };
        },
      },
    },
  };
}

describe('API: add-on actions declared by a provider (real platform in-process)', function () {
  this.timeout(120_000);
  let dir: string;
  let p: Platform;
  const call = apiCaller(() => p);
  const actions = (app: string, addon: string) => `/apps/${app}/addons/${addon}/actions`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-actions-'));
    const configFile = join(dir, 'slipway.config.json');
    await writeFile(configFile, JSON.stringify({ defaults: false, plugins: [] }));
    p = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      httpsPort: false,
      configFile,
      plugins: [defineAddon(notesProvider())],
    });
    for (const name of ['keep', 'other'])
      expect((await call('POST', '/apps', { name })).status).to.equal(201);
    expect((await call('POST', '/apps/keep/addons', { plan: 'notes' })).status).to.equal(201);
    expect((await call('POST', '/apps/other/addons', { plan: 'notes', name: 'JOTS' })).status).to.equal(201);
  });
  after(async () => {
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the actions with their input schemas', async () => {
    const r = await call('GET', actions('keep', 'notes'));
    expect(r.status).to.equal(200);
    expect(r.json.map((a: { name: string }) => a.name)).to.deep.equal(['notes:list', 'notes:add']);
    expect(r.json[0]).to.include({ description: 'the notes of this resource', read_only: true });
    expect(r.json[1].input_schema.required).to.deep.equal(['text']);
  });

  it("runs them on the app's own resource, by service, attachment name or id", async () => {
    expect(
      (await call('POST', `${actions('keep', 'notes')}/notes:add`, { text: 'first' })).json,
    ).to.deep.equal({
      added: 'first',
    });
    await call('POST', `${actions('other', 'notes')}/notes:add`, { text: 'elsewhere' });
    const list = await call('GET', `${actions('keep', 'NOTES')}/notes:list`);
    expect(list.status).to.equal(200);
    expect(list.json).to.deep.include({ addon: 'NOTES', app: 'keep', notes: ['first'] });
    expect(list.json.url).to.equal(`http://notes.test/${list.json.resource}`);
    const addons = (await call('GET', '/apps/keep/addons')).json as { id: string }[];
    const byId = await call('GET', `${actions('keep', addons[0]!.id)}/notes:list?prefix=x`);
    expect(byId.json.notes).to.deep.equal([]);
    expect((await call('POST', `${actions('keep', 'notes')}/notes:list`, {})).json.notes).to.deep.equal([
      'first',
    ]);
    expect((await call('GET', `${actions('other', 'notes')}/notes:list`)).json.notes).to.deep.equal([
      'elsewhere',
    ]);
  });

  it('refuses bad input, GET of a changing action, unknown actions and missing add-ons with coded errors', async () => {
    const bad = await call('POST', `${actions('keep', 'notes')}/notes:add`, { text: '', more: 1 });
    expect(bad.status).to.equal(422);
    expect(bad.json.code).to.equal('SLIPWAY_ERR_RUNTIME_INVALID_BODY');
    const badQuery = await call('GET', `${actions('keep', 'notes')}/notes:list?nope=1`);
    expect(badQuery.status).to.equal(422);
    const get = await call('GET', `${actions('keep', 'notes')}/notes:add?text=x`);
    expect(get.status).to.equal(405);
    expect(get.json.code).to.equal('SLIPWAY_ERR_RUNTIME_ADDON_ACTION_METHOD');
    const unknown = await call('POST', `${actions('keep', 'notes')}/notes:burn`, {});
    expect(unknown.status).to.equal(404);
    expect(unknown.json.message).to.match(/has no action "notes:burn"/);
    expect(unknown.json.hint).to.match(/notes:list, notes:add/);
    expect((await call('POST', '/apps', { name: 'bare' })).status).to.equal(201);
    const none = await call('GET', `${actions('bare', 'notes')}/notes:list`);
    expect(none.status).to.equal(404);
    expect(none.json.hint).to.match(/slipway addons:create notes -a bare/);
    expect((await call('GET', `${actions('keep', 'notes')}/notes:list`)).json.notes).to.deep.equal(['first']);
  });
});
