/**
 * The platform on the HAProxy data plane (`router: 'haproxy'`): apps, custom domains and
 * maintenance set through the API reach HAProxy live, with the same answers and log lines as
 * the Node router. Deploys through it are in platform-haproxy.test.ts and
 * dynos/haproxy-deploys.test.ts; the semantics of each answer in the router's conformance tests.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireHaproxy } from '@slipway/router/test-kit';
import { expect } from 'chai';
import { type Platform, startPlatform } from './platform.js';
import { createPlatformRouter } from './router-choice.js';

function get(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Poll `fn` until it holds (the data plane applies a change within its sync interval). */
async function until(fn: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('platform on the HAProxy data plane', function () {
  this.timeout(60_000);
  let dir: string;
  let p: Platform;
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(new URL(path, p.apiUrl), {
      method,
      headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return r.status;
  };
  before(async function () {
    await requireHaproxy(this);
    dir = await mkdtemp(join(tmpdir(), 'slipway-haproxy-platform-'));
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'slipway.config.json'), JSON.stringify({ defaults: false, plugins: [] }));
    p = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      httpsPort: false,
      router: 'haproxy',
      configFile: join(dir, 'slipway.config.json'),
    });
  });
  after(async () => {
    await p?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves apps, custom domains and maintenance set through the API, live', async () => {
    expect(p.routerDataPlane).to.equal('haproxy');
    const port = p.routerPort;
    expect((await get(port, 'blank.localhost')).status).to.equal(404);
    expect(await call('POST', '/apps', { name: 'blank' })).to.equal(201);
    await until(async () => (await get(port, 'blank.localhost')).body.includes('H81'), 'H81 for the new app');
    expect(await call('POST', '/apps/blank/domains', { hostname: 'www.blank.test' })).to.equal(201);
    await until(async () => (await get(port, 'www.blank.test')).body.includes('H81'), 'the custom domain');
    expect(await call('PATCH', '/apps/blank', { maintenance: true })).to.equal(200);
    await until(async () => (await get(port, 'blank.localhost')).body.includes('H80'), 'maintenance (H80)');
    // The per-request lines came through HAProxy's log ring into the app's log stream.
    await until(
      async () =>
        p.logs.recent('blank').some((l) => /^at=error code=H80 desc="Maintenance mode" /.test(l.message)),
      'the H80 router line',
    );
    expect(p.logs.recent('blank').some((l) => /code=H81 .*host=www\.blank\.test /.test(l.message))).to.equal(
      true,
    );
  });

  it('refuses an unknown router name with a coded error', async () => {
    const err = await createPlatformRouter({ name: 'nginx' as never } as never).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_RUNTIME_ROUTER');
  });
});
