import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, Kernel } from '@slipway/core';
import { expect } from 'chai';
import { defineAddon } from './define-addon.js';
import { basicAuth } from './http-util.js';
import { portIsFree } from './net.js';
import { captureLog, dirProvider } from './provider-fixture.test.js';
import { remoteAddon } from './remote-addon.js';
import { type AddonServer, serveAddon } from './serve-addon.js';

const PASSWORD = 'partner-password-1';

async function call(
  server: AddonServer,
  method: string,
  path: string,
  body?: unknown,
  auth = basicAuth('dirkv', PASSWORD),
) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

describe('addon-sdk partner API server (real HTTP on loopback)', function () {
  this.timeout(30_000);
  let dataDir: string;
  let server: AddonServer;
  let def: ReturnType<typeof dirProvider>;
  const log = captureLog();

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'addon-sdk-serve-'));
    def = dirProvider();
    server = await serveAddon(defineAddon(def), { password: PASSWORD, dataDir, log: log.write });
  });
  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses bad, missing and malformed credentials with 401 and a JSON message', async () => {
    for (const auth of [basicAuth('dirkv', 'nope'), basicAuth('other', PASSWORD), '', 'Bearer x']) {
      const r = await call(server, 'POST', '', { uuid: 'x', plan: 'small' }, auth);
      expect(r.status, auth).to.equal(401);
      expect(r.body.message).to.be.a('string');
      expect(r.headers.get('www-authenticate')).to.contain('Basic');
    }
    expect(def.calls.provision).to.equal(0);
  });

  it('answers 422 with a message for bad bodies and unknown plans, 400 for broken JSON, 413 when too big', async () => {
    expect((await call(server, 'POST', '', { plan: 'small' })).status).to.equal(422);
    expect((await call(server, 'POST', '', { uuid: 'u', options: [] })).body.message).to.contain('options');
    expect((await call(server, 'POST', '', { uuid: 'u', callback_url: 'ftp://x' })).status).to.equal(422);
    const plan = await call(server, 'POST', '', { uuid: 'u', plan: 'gigantic' });
    expect(plan.status).to.equal(422);
    expect(plan.body.message).to.contain('gigantic');
    expect((await call(server, 'POST', '', '{not json')).status).to.equal(400);
    const big = await call(server, 'POST', '', {
      uuid: 'u',
      options: { blob: 'x'.repeat(1024 * 1024 + 10) },
    });
    expect(big.status).to.equal(413);
    expect((await call(server, 'GET', '/../../etc')).status).to.equal(404);
  });

  it("answers errors in the platform API's one shape: id, code, message, hint; 405 names what is allowed", async () => {
    const denied = await call(server, 'GET', '/x', undefined, basicAuth('dirkv', 'nope'));
    expect(denied.body).to.include({ id: 'addon_http_auth', code: 'SLIPWAY_ERR_ADDON_HTTP_AUTH' });
    expect(denied.body.hint).to.contain('api.password');
    const bad = await call(server, 'POST', '', { uuid: 'u', options: [] });
    expect(bad.body.code).to.equal('SLIPWAY_ERR_ADDON_HTTP_BODY');
    const broken = await call(server, 'POST', '', '{not json');
    expect(broken.body.code).to.equal('SLIPWAY_ERR_ADDON_HTTP_JSON');
    const method = await call(server, 'PATCH', '/some-id', {});
    expect(method.status).to.equal(405);
    expect(method.headers.get('allow')).to.equal('GET, PUT, DELETE');
    expect(method.body.code).to.equal('SLIPWAY_ERR_ADDON_HTTP_METHOD');
    const root = await call(server, 'GET', '');
    expect(root.status).to.equal(405);
    expect(root.headers.get('allow')).to.equal('POST');
    const unknown = await call(server, 'GET', '/no-such-id');
    expect(unknown.status).to.equal(404);
    expect(unknown.body.code).to.equal('SLIPWAY_ERR_ADDON_UNKNOWN_RESOURCE');
    // Outside the partner API's prefix: 404 without asking for credentials.
    const outside = await fetch(server.url.replace('/heroku/resources', '/elsewhere'));
    expect(outside.status).to.equal(404);
    expect(((await outside.json()) as { code: string }).code).to.equal('SLIPWAY_ERR_ADDON_HTTP_ROUTE');
  });

  it('provisions, is idempotent on uuid, changes plan and deprovisions (200, then 410)', async () => {
    const body = { uuid: 'p-1', plan: 'small', region: 'local', options: {}, name: 'dirkv-shiny-1' };
    const a = await call(server, 'POST', '', body);
    expect(a.status).to.equal(200);
    expect(Object.keys(a.body.config).sort()).to.deep.equal(['DIRKV_TOKEN', 'DIRKV_URL', 'KV_URL']);
    expect(a.body.id).to.be.a('string');
    const b = await call(server, 'POST', '', body);
    expect(b.body).to.deep.equal(a.body);
    expect(def.calls.provision).to.equal(1);
    const p = await call(server, 'PUT', `/${a.body.id}`, { plan: 'large' });
    expect(p.status).to.equal(200);
    expect(p.body.config).to.deep.equal(a.body.config);
    expect((await call(server, 'PUT', `/${a.body.id}`, {})).status).to.equal(422);
    expect((await call(server, 'PUT', '/no-such-id', { plan: 'large' })).status).to.equal(404);
    expect((await call(server, 'DELETE', `/${a.body.id}`)).status).to.equal(200);
    expect((await call(server, 'DELETE', `/${a.body.id}`)).status).to.equal(410);
    expect(log.lines.join('\n')).not.to.contain(a.body.config.DIRKV_TOKEN);
  });

  it('serves a remoteAddon end to end through a real Kernel, with attachment naming', async () => {
    const plugin = remoteAddon({
      manifest: { ...defineAddon(dirProvider()).manifest },
      url: server.url,
      password: PASSWORD,
    });
    const kernel = new Kernel();
    await kernel.use(plugin);
    try {
      expect(kernel.catalog.addons.get('dirkv')?.plugin).to.equal('remote-addon-dirkv');
      const req = { service: 'dirkv', plan: 'small', uuid: 'r-1', app: 'web', name: 'PRIMARY', options: {} };
      const r = await kernel.hooks.provision.for('dirkv').promise(req);
      expect(Object.keys(r!.config).sort()).to.deep.equal(['KV_URL', 'PRIMARY_TOKEN', 'PRIMARY_URL']);
      expect(await kernel.hooks.provision.for('dirkv').promise(req)).to.deep.equal(r);
      const p = await kernel.hooks.planChange
        .for('dirkv')
        .promise({ service: 'dirkv', uuid: 'r-1', id: r!.id, app: 'web', plan: 'large' });
      expect(p!.config).to.deep.equal(r!.config);
      const d = { service: 'dirkv', uuid: 'r-1', id: r!.id, app: 'web' };
      await kernel.hooks.deprovision.for('dirkv').promise(d);
      await kernel.hooks.deprovision.for('dirkv').promise(d);
      // Wrong password: a coded error naming the provider.
      const wrong = remoteAddon({
        manifest: plugin.manifest,
        url: server.url,
        password: 'wrong-password',
        pluginName: 'w',
      });
      const k2 = new Kernel();
      await k2.use(wrong);
      const err: any = await k2.hooks.provision
        .for('dirkv')
        .promise({ ...req, uuid: 'r-2' })
        .catch((e) => e);
      expect(err.code).to.equal('SLIPWAY_ERR_ADDON_REMOTE');
      expect(err.message).to.contain('dirkv').and.contain('credentials');
    } finally {
      await plugin.close();
    }
  });

  it('names the provider when it is unreachable or times out', async () => {
    const hang: Server = createServer(() => {});
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    const port = (hang.address() as { port: number }).port;
    const manifest = defineAddon(dirProvider()).manifest;
    const k = new Kernel();
    await k.use(
      remoteAddon({
        manifest,
        url: `http://127.0.0.1:${port}/heroku/resources`,
        password: PASSWORD,
        timeoutMs: 300,
      }),
    );
    const req = { service: 'dirkv', plan: 'small', uuid: 't-1', app: 'web', name: '', options: {} };
    const err: any = await k.hooks.provision
      .for('dirkv')
      .promise(req)
      .catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_ADDON_REMOTE_TIMEOUT');
    expect(err.message).to.contain('dirkv').and.contain(String(port));
    hang.closeAllConnections();
    await new Promise((r) => hang.close(r));
    const k2 = new Kernel();
    await k2.use(
      remoteAddon({ manifest, url: `http://127.0.0.1:${port}/heroku/resources`, password: PASSWORD }),
    );
    const err2: any = await k2.hooks.provision
      .for('dirkv')
      .promise(req)
      .catch((e) => e);
    expect(err2.code).to.equal('SLIPWAY_ERR_ADDON_REMOTE');
    expect(err2.message).to.contain('ECONNREFUSED');
  });
});

describe('addon-sdk asynchronous provisioning (202 + callback)', function () {
  this.timeout(30_000);
  let dataDir: string;
  let server: AddonServer;
  let def: ReturnType<typeof dirProvider>;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'addon-sdk-async-'));
    def = dirProvider({ delayMs: 600 });
    server = await serveAddon(def, { password: PASSWORD, dataDir, asyncAfterMs: 150, log: () => {} });
  });
  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 202 and PATCHes the callback URL with the config, authenticated', async () => {
    const got: { auth?: string; body: any; method?: string }[] = [];
    const cb = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        got.push({ auth: req.headers.authorization, method: req.method, body: JSON.parse(text) });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => cb.listen(0, '127.0.0.1', () => r()));
    const cbUrl = `http://127.0.0.1:${(cb.address() as { port: number }).port}/addons/x/callback`;
    try {
      const a = await call(server, 'POST', '', { uuid: 'a-1', plan: 'small', callback_url: cbUrl });
      expect(a.status).to.equal(202);
      expect(a.body.id).to.equal('a-1');
      // A retry while still provisioning is 202 again and creates nothing new.
      expect(
        (await call(server, 'POST', '', { uuid: 'a-1', plan: 'small', callback_url: cbUrl })).status,
      ).to.equal(202);
      expect((await call(server, 'GET', '/a-1')).body.state).to.equal('provisioning');
      for (let i = 0; i < 50 && !got.length; i++) await new Promise((r) => setTimeout(r, 50));
      expect(got).to.have.length(1);
      expect(got[0]!.method).to.equal('PATCH');
      expect(got[0]!.auth).to.equal(basicAuth('dirkv', PASSWORD));
      expect(got[0]!.body).to.include({ uuid: 'a-1', state: 'provisioned' });
      expect(Object.keys(got[0]!.body.config).sort()).to.deep.equal(['DIRKV_TOKEN', 'DIRKV_URL', 'KV_URL']);
      expect(def.calls.provision).to.equal(1);
      const done = await call(server, 'GET', '/a-1');
      expect(done.body).to.include({ state: 'provisioned', id: got[0]!.body.id });
      // Once done, the same uuid answers 200 at once.
      expect((await call(server, 'POST', '', { uuid: 'a-1', plan: 'small' })).status).to.equal(200);
    } finally {
      await new Promise((r) => cb.close(r));
    }
  });

  it('lets remoteAddon accept a 202 and finish through its callback listener, closed with the kernel', async () => {
    const port = await freePort();
    const plugin = remoteAddon({
      manifest: defineAddon(def).manifest,
      url: server.url,
      password: PASSWORD,
      pollIntervalMs: 60_000,
      callback: { port },
    });
    const k = new Kernel();
    await k.use(plugin);
    try {
      const before = def.calls.provision;
      const r = await k.hooks.provision
        .for('dirkv')
        .promise({ service: 'dirkv', plan: 'large', uuid: 'a-2', app: 'web', name: 'SLOW', options: {} });
      expect(Object.keys(r!.config).sort()).to.deep.equal(['KV_URL', 'SLOW_TOKEN', 'SLOW_URL']);
      expect(def.calls.provision).to.equal(before + 1);
      expect(await portIsFree(port)).to.equal(false);
    } finally {
      await k.close();
    }
    expect(await portIsFree(port)).to.equal(true);
  });

  it('lets remoteAddon finish a 202 by polling when no callback arrives', async () => {
    const plugin = remoteAddon({
      manifest: defineAddon(def).manifest,
      url: server.url,
      password: PASSWORD,
      pollIntervalMs: 100,
      // Nobody listens here, so the provider's callback fails and only polling can finish it.
      callback: { publicUrl: 'http://127.0.0.1:9' },
    });
    const k = new Kernel();
    await k.use(plugin);
    try {
      const r = await k.hooks.provision
        .for('dirkv')
        .promise({ service: 'dirkv', plan: 'small', uuid: 'a-3', app: 'web', name: '', options: {} });
      expect(r!.config.DIRKV_URL).to.match(/^http:\/\//);
    } finally {
      await plugin.close();
    }
  });
});
