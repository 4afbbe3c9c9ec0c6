/**
 * /openapi.json: generated from the route schemas, served without credentials (with or without
 * the accounts gate), listing the routes the CLI calls with their body and answer schemas; and
 * answers that go through a response schema keep every field render.ts gives them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiRouteGroupEntry, Kernel } from '@slipway/core';
import { expect } from 'chai';
import { AccessGate } from '../accounts/access-gate.js';
import { FEATURE_PLUGINS } from '../features.js';
import { SqliteStateStore } from '../state/sqlite-state-store.js';
import { migrateTables } from '../state/table-migrations.js';
import { renderApp } from './render.js';
import { type ApiContext, createApiServer } from './server.js';

/** Routes the CLI calls (packages/cli/src/commands), with the fields of the answer it reads. */
const CLI_ROUTES: [method: string, path: string, status: string, fields: string[]][] = [
  ['get', '/apps', '200', ['name', 'web_url', 'current_release', 'stack']],
  ['post', '/apps', '201', ['name', 'web_url']],
  ['get', '/apps/{app}', '200', ['name', 'web_url', 'maintenance', 'stack', 'released_at']],
  ['delete', '/apps/{app}', '200', ['name']],
  ['get', '/apps/{app}/builds', '200', ['id', 'status', 'output_stream_url', 'release', 'error']],
  ['get', '/apps/{app}/builds/{id}', '200', ['id', 'status', 'release', 'error']],
  ['post', '/apps/{app}/builds', '201', ['id', 'output_stream_url']],
  ['get', '/apps/{app}/releases', '200', ['version', 'description', 'status', 'current', 'user']],
  ['get', '/apps/{app}/releases/{id}', '200', ['version', 'config_vars', 'slug']],
  ['post', '/apps/{app}/releases', '201', ['version']],
  ['get', '/apps/{app}/config-vars', '200', []],
  ['patch', '/apps/{app}/config-vars', '200', []],
  ['get', '/apps/{app}/formation', '200', ['type', 'quantity', 'size', 'command']],
  ['patch', '/apps/{app}/formation', '200', ['type', 'quantity']],
  ['get', '/apps/{app}/dynos', '200', ['name', 'type', 'state', 'release', 'created_at']],
  ['get', '/apps/{app}/addons', '200', ['name', 'plan', 'config_vars', 'attachment_of']],
  ['post', '/apps/{app}/addons', '201', ['name', 'plan', 'config_vars']],
  ['delete', '/apps/{app}/addons/{id}', '200', ['name']],
  ['post', '/apps/{app}/log-sessions', '201', ['logplex_url']],
];

/** Further routes the CLI calls: they must be in the document (their answers are free-form). */
const CLI_OTHER_ROUTES: [string, string][] = [
  ['patch', '/apps/{app}'],
  ['post', '/apps/{app}/domains'],
  ['get', '/apps/{app}/domains'],
  ['post', '/apps/{app}/log-drains'],
  ['get', '/apps/{app}/log-drains'],
  ['delete', '/apps/{app}/dynos'],
  ['get', '/addon-services'],
  ['get', '/addon-providers'],
  ['put', '/apps/{app}/buildpack-installations'],
  ['post', '/sources'],
];

type OpenApiDoc = {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: unknown; responses?: Record<string, unknown> }>>;
};

describe('API: /openapi.json from the route schemas', function () {
  this.timeout(60_000);
  let dir: string;
  let state: SqliteStateStore;
  let groups: ApiRouteGroupEntry[];
  let kernel: Kernel;
  const servers: Server[] = [];
  const start = async (extra: Partial<ApiContext> = {}): Promise<string> => {
    // Only the state store is used by these requests; the other services are never reached.
    const ctx = {
      state,
      dataDir: dir,
      webUrl: (a: string) => `http://${a}.example.test`,
      // The feature plugins' route groups, as their `register` declares them (nothing started).
      routeGroups: groups,
      kernel,
      ...extra,
    } as ApiContext;
    const s = createApiServer(ctx);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const addr = s.address() as { port: number };
    return `http://127.0.0.1:${addr.port}`;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-openapi-'));
    state = new SqliteStateStore(join(dir, 'state.db'));
    kernel = new Kernel();
    for (const p of FEATURE_PLUGINS) await kernel.use(p);
    groups = [...kernel.catalog.apiRoutes.values()];
    // The tables the feature plugins own, as the platform's state factory applies them.
    for (const m of kernel.catalog.migrations.values()) migrateTables(state.db, m.family, m.steps);
  });
  after(async () => {
    for (const s of servers) s.close();
    state.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the document without a token and lists the CLI routes with their schemas', async () => {
    const url = await start();
    const res = await fetch(`${url}/openapi.json`);
    expect(res.status).to.equal(200);
    const doc = (await res.json()) as OpenApiDoc;
    expect(doc.openapi).to.match(/^3\./);
    for (const [method, path, status, fields] of CLI_ROUTES) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method.toUpperCase()} ${path} in /openapi.json`).to.be.an('object');
      const answer = op?.responses?.[status] as
        | { content: Record<string, { schema: { type: string; items?: object; properties?: object } }> }
        | undefined;
      expect(answer, `${method.toUpperCase()} ${path} answers ${status} with a schema`).to.be.an('object');
      const schema = answer?.content['application/json']?.schema;
      const item = (schema?.type === 'array' ? schema.items : schema) as { properties?: object } | undefined;
      for (const f of fields) expect(item?.properties, `${path} answer has ${f}`).to.have.property(f);
    }
    for (const [method, path] of [
      ...CLI_OTHER_ROUTES,
      ['post', '/apps'],
      ['patch', '/apps/{app}/config-vars'],
    ])
      expect(doc.paths[path]?.[method], `${method.toUpperCase()} ${path}`).to.be.an('object');
    // A plugin's route group is in the document under its prefix, tagged with the group's name.
    for (const [path, method, tag] of [
      ['/apps/{app}/log-drains', 'post', 'drains'],
      ['/apps/{app}/log-drains/{id}', 'delete', 'drains'],
      ['/app-setups', 'post', 'app-setups'],
      ['/{app}.git/info/refs', 'get', 'git'],
    ] as const)
      expect(
        (doc.paths[path]?.[method] as { tags?: string[] } | undefined)?.tags,
        `${path} ${tag}`,
      ).to.deep.equal([tag]);
    // Body schemas are in the document as the server checks them.
    const create = doc.paths['/apps']?.post?.requestBody as {
      content: Record<string, { schema: { properties: object; additionalProperties: boolean } }>;
    };
    expect(create.content['application/json']?.schema.properties).to.have.property('name');
    expect(create.content['application/json']?.schema.additionalProperties).to.equal(false);
    // Other routes still need the token.
    expect((await fetch(`${url}/apps`)).status).to.equal(401);
  });

  it('is public behind the accounts gate too', async () => {
    const url = await start({ access: new AccessGate({ state }) });
    const res = await fetch(`${url}/openapi.json`);
    expect(res.status).to.equal(200);
    expect(((await res.json()) as OpenApiDoc).paths).to.have.property('/users');
    const refused = await fetch(`${url}/apps`);
    expect(refused.status).to.equal(401);
    expect(await refused.json()).to.include({ code: 'SLIPWAY_ERR_RUNTIME_UNAUTHORIZED' });
  });

  it('answers through the response schemas with every field render.ts gives', async () => {
    const url = await start();
    const token = state.createToken('openapi-test').token;
    const a = state.createApp('schema-app');
    const res = await fetch(`${url}/apps/schema-app`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal(renderApp(a, 'http://schema-app.example.test'));
    // A body the schema refuses: the coded 422 names the field and the route.
    const bad = await fetch(`${url}/apps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'x', extra: 1 }),
    });
    expect(bad.status).to.equal(422);
    const err = (await bad.json()) as { code: string; message: string; hint: string };
    expect(err.code).to.equal('SLIPWAY_ERR_RUNTIME_INVALID_BODY');
    expect(err.message).to.include('extra');
    expect(err.hint).to.include('POST /apps');
  });
});
