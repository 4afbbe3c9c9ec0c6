/**
 * Heroku's build API shape against a real in-process platform: `POST /sources`, an upload to its
 * `put_url` with no API token, then `POST /apps/:app/builds` `{ source_blob: { url, version } }`
 * builds and releases it. A URL the platform did not issue (or with a wrong token, expired, not
 * uploaded yet) is refused with a coded 422, and is never fetched.
 */
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { packDir } from '../demo.js';
import { type Platform, startPlatform } from '../platform.js';
import {
  fixtureCopy,
  nodeOnlyConfig,
  removeFixtureCopies,
  servedVersion,
} from '../platform-harness.test-helper.js';

describe('API: POST /sources and builds from source_blob.url (Heroku shape)', function () {
  this.timeout(180_000);
  let dir: string;
  let p: Platform;
  const api = async (method: string, path: string, body?: unknown, token: string | null = p.token) => {
    const r = await fetch(new URL(path, p.apiUrl), {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : undefined };
  };
  const newSource = async () => {
    const r = await api('POST', '/sources');
    expect(r.status).to.equal(201);
    return r.json.source_blob as { put_url: string; get_url: string };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-sources-'));
    await chmod(dir, 0o755); // dynos run as nobody when tests run as root
    p = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile: await nodeOnlyConfig(dir),
    });
    expect((await api('POST', '/apps', { name: 'blob' })).status).to.equal(201);
  });
  after(async () => {
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  it('uploads to the put_url without a token and builds from the get_url', async () => {
    expect((await api('POST', '/sources', undefined, null)).status).to.equal(401);
    const blob = await newSource();
    expect(blob.put_url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/sources\/[0-9a-f-]{36}\/[0-9a-f]{64}$/);
    const tgz = await readFile(await packDir(await fixtureCopy('hello', { VERSION: 'from-blob' })));
    expect((await fetch(blob.put_url, { method: 'PUT', body: tgz })).status).to.equal(200);
    // The platform's alone: app uids pass through the data dir, and must not list or read uploads.
    const tmp = join(dir, 'data', 'tmp');
    const file = join(tmp, 'sources', `${new URL(blob.put_url).pathname.split('/')[2]}.tgz`);
    for (const [path, mode] of [
      [tmp, 0o700],
      [join(tmp, 'sources'), 0o700],
      [file, 0o600],
    ] as const)
      expect((await stat(path)).mode & 0o777, path).to.equal(mode);
    expect(Buffer.from(await (await fetch(blob.get_url)).arrayBuffer()).equals(tgz)).to.equal(true);
    const b = await api('POST', '/apps/blob/builds', {
      source_blob: { url: blob.get_url, version: 'abc123' },
    });
    expect(b.status, JSON.stringify(b.json)).to.equal(201);
    for (;;) {
      const s = await api('GET', `/apps/blob/builds/${b.json.id}`);
      if (s.json.status !== 'pending') {
        expect(s.json.status).to.equal('succeeded');
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await servedVersion(p.routerPort, 'blob')).to.equal('from-blob');
  });

  it('refuses URLs it did not issue (fetching none), wrong tokens and sources not uploaded', async () => {
    let fetched = 0;
    const elsewhere = createServer((_q, res) => {
      fetched++;
      res.end('not a tarball');
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    const port = (elsewhere.address() as AddressInfo).port;
    const fresh = await newSource();
    const wrongToken = fresh.get_url.replace(/[0-9a-f]{64}$/, '0'.repeat(64));
    const cases = [
      `http://127.0.0.1:${port}/app.tgz`,
      `http://127.0.0.1:${port}${new URL(fresh.get_url).pathname.replace(/[0-9a-f]{64}$/, 'f'.repeat(64))}`,
      wrongToken,
      fresh.get_url,
      'not a url',
    ];
    for (const url of cases) {
      const r = await api('POST', '/apps/blob/builds', { source_blob: { url } });
      expect(r.status, url).to.equal(422);
      expect(r.json.id, url).to.equal('runtime_source_url');
    }
    expect(
      (await api('POST', '/apps/blob/builds', { source_blob: { url: fresh.get_url } })).json.message,
    ).to.include('nothing was uploaded');
    expect((await fetch(wrongToken, { method: 'PUT', body: 'x' })).status).to.equal(404);
    expect(fetched).to.equal(0);
    elsewhere.close();
    // Still serving the release built from the blob.
    expect(await servedVersion(p.routerPort, 'blob')).to.equal('from-blob');
  });
});
