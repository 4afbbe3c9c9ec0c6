/**
 * Bad input against a real in-process platform: every refusal answers with a coded
 * `{ id, message }` and the right status, and changes nothing (the running release keeps serving).
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import * as tar from 'tar';
import { packDir } from '../demo.js';
import { type Platform, startPlatform } from '../platform.js';
import {
  fixtureCopy,
  nodeOnlyConfig,
  removeFixtureCopies,
  servedVersion,
} from '../platform-harness.test-helper.js';

/** A tar.gz made entry by entry, so tests can write entries a normal tool refuses to make. */
function rawTarGz(entries: { path: string; type?: string; linkpath?: string; body?: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const header = Buffer.alloc(512);
    new tar.Header({
      path: e.path,
      type: (e.type ?? 'File') as 'File',
      size: e.type && e.type !== 'File' ? 0 : body.length,
      mode: 0o644,
      mtime: new Date(0),
      ...(e.linkpath ? { linkpath: e.linkpath } : {}),
    }).encode(header);
    blocks.push(header);
    if (!e.type || e.type === 'File') blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

describe('API: auth and bad input (real platform in-process)', function () {
  this.timeout(120_000);
  let dir: string;
  let p: Platform;
  const call = (method: string, path: string, body?: string | Buffer, token: string | null = p.token) =>
    new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = request(
        new URL(path, p.apiUrl),
        { method, headers: token ? { authorization: `Bearer ${token}` } : {} },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const serving = () => servedVersion(p.routerPort, 'bad');
  const waitBuild = async (id: string) => {
    for (;;) {
      const b = await call('GET', `/apps/bad/builds/${id}`);
      if (b.json.status !== 'pending') return b.json;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-api-'));
    await chmod(dir, 0o755); // dynos run as nobody when tests run as root
    p = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile: await nodeOnlyConfig(dir),
      maxUploadBytes: 64 * 1024,
    });
    expect((await call('POST', '/apps', '{"name":"bad"}')).status).to.equal(201);
    const file = await packDir(await fixtureCopy('hello', { VERSION: 'good' }));
    const b = await call('POST', '/apps/bad/builds', await readFile(file));
    expect(b.status).to.equal(201);
    expect((await waitBuild(b.json.id)).status).to.equal('succeeded');
    expect(await serving()).to.equal('good');
  });
  after(async () => {
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
    await removeFixtureCopies();
  });
  afterEach(async () => {
    // Whatever was refused, the app still serves its release and has no new one.
    expect(await serving()).to.equal('good');
    const rs = await call('GET', '/apps/bad/releases');
    expect(rs.json.map((r: { version: number }) => r.version)).to.deep.equal([1]);
  });

  it('needs a valid token on every route', async () => {
    for (const token of [null, 'wrong', `${p.token}x`]) {
      const r = await call('GET', '/apps', undefined, token);
      expect(r.status).to.equal(401);
      expect(r.json).to.include({ id: 'runtime_unauthorized' });
    }
    expect((await call('DELETE', '/apps/bad', undefined, null)).status).to.equal(401);
  });

  it('refuses malformed JSON, unknown fields and bad app names with { id, message }', async () => {
    const cases: [string, string, string, number, string][] = [
      ['POST', '/apps', '{"name":', 400, 'runtime_bad_json'],
      ['POST', '/apps', '{"name":"ok-name","evil":1}', 422, 'runtime_invalid_body'],
      ['POST', '/apps', '{"name":"Bad Name; rm -rf /"}', 422, 'runtime_app_name'],
      ['POST', '/apps', '{"name":"$(reboot)"}', 422, 'runtime_app_name'],
      ['POST', '/apps', '{"name":"bad"}', 409, 'runtime_app_exists'],
      ['GET', '/apps/..%2f..%2fetc', '', 404, 'runtime_app_not_found'],
      [
        'PATCH',
        '/apps/bad/formation',
        '{"updates":[{"type":"web","quantity":-1}]}',
        422,
        'runtime_invalid_body',
      ],
      [
        'PATCH',
        '/apps/bad/formation',
        '{"updates":[{"type":"nope","quantity":1}]}',
        422,
        'runtime_formation',
      ],
      [
        'PATCH',
        '/apps/bad/formation',
        '{"updates":[{"type":"web","size":"huge"}]}',
        422,
        'runtime_formation',
      ],
      ['POST', '/apps/bad/releases', '{"release":"v99"}', 404, 'runtime_not_found'],
      ['GET', '/nowhere', '', 404, 'runtime_route'],
      // Issue 11: a malformed %-escape was a 500 with a stack trace.
      ['GET', '/apps/%E0%A4%A/config-vars', '', 400, 'runtime_bad_path'],
      ['GET', '/apps/bad%/releases', '', 400, 'runtime_bad_path'],
      // Issue 11: bare IPs and loopback names captured every request made by address.
      ['POST', '/apps/bad/domains', '{"hostname":"127.0.0.1"}', 422, 'runtime_domain'],
      ['POST', '/apps/bad/domains', '{"hostname":"10.0.0.7"}', 422, 'runtime_domain'],
      ['POST', '/apps/bad/domains', '{"hostname":"127.1"}', 422, 'runtime_domain'],
      ['POST', '/apps/bad/domains', '{"hostname":"localhost"}', 422, 'runtime_domain'],
      ['POST', '/apps/bad/domains', '{"hostname":"intranet"}', 422, 'runtime_domain'],
      // Issue 11: drains to the metadata service and to loopback ports.
      ['POST', '/apps/bad/log-drains', '{"url":"http://169.254.169.254/latest/"}', 422, 'runtime_drain_url'],
      ['POST', '/apps/bad/log-drains', '{"url":"syslog://127.0.0.1:6379"}', 422, 'runtime_drain_url'],
    ];
    for (const [m, path, body, status, id] of cases) {
      const r = await call(m, path, body || undefined);
      expect(r.status, `${m} ${path} ${body}`).to.equal(status);
      expect(r.json.id, `${m} ${path} ${body}`).to.equal(id);
      expect(r.json.message).to.be.a('string').and.not.empty;
    }
    const apps = await call('GET', '/apps');
    expect(apps.json.map((a: { name: string }) => a.name)).to.deep.equal(['bad']);
  });

  it('refuses invalid config var names and oversized config without changing the config', async () => {
    for (const body of [
      '{"1ABC":"x"}',
      '{"A-B":"x"}',
      '{"A B":"x"}',
      '{"OK":5}',
      `{"BIG":"${'x'.repeat(33_000)}"}`,
      // Issue 11: a NUL byte and a 5000-character name were accepted.
      '{"SECRET":"abc\\u0000def"}',
      '{"BELL":"\\u0007"}',
      `{"A${'B'.repeat(4999)}":"x"}`,
    ]) {
      const r = await call('PATCH', '/apps/bad/config-vars', body);
      expect(r.status, body.slice(0, 30)).to.be.oneOf([400, 413, 422]);
      expect(r.json.id).to.be.a('string');
    }
    expect((await call('GET', '/apps/bad/config-vars')).json).to.deep.equal({});
  });

  it('refuses archives with .., absolute paths, links out of the root, garbage and oversized uploads', async () => {
    const archives: [string, Buffer, number][] = [
      ['dot-dot', rawTarGz([{ path: '../escape.txt', body: 'x' }]), 400],
      ['absolute', rawTarGz([{ path: '/tmp/slipway-abs.txt', body: 'x' }]), 400],
      [
        'symlink out',
        rawTarGz([{ path: 'link', type: 'SymbolicLink', linkpath: '../../../etc/passwd' }]),
        400,
      ],
      ['absolute symlink', rawTarGz([{ path: 'link', type: 'SymbolicLink', linkpath: '/etc/passwd' }]), 400],
      ['hardlink out', rawTarGz([{ path: 'hard', type: 'Link', linkpath: '../../etc/passwd' }]), 400],
      [
        // Issue 11: each link stays inside; followed in turn they lead out (was a 500).
        'symlink chain',
        rawTarGz([
          { path: 'l1', type: 'SymbolicLink', linkpath: '.' },
          { path: 'l1/l2', type: 'SymbolicLink', linkpath: '..' },
          { path: 'l1/l2/escape.txt', body: 'x' },
        ]),
        400,
      ],
      ['not gzip', Buffer.from('this is not an archive'), 400],
      ['too large', Buffer.alloc(100 * 1024, 1), 413],
    ];
    for (const [name, body, status] of archives) {
      const r = await call('POST', '/apps/bad/builds', body);
      expect(r.status, name).to.equal(status);
      expect(r.json.message, name).to.be.a('string').and.not.empty;
    }
    const builds = await call('GET', '/apps/bad/builds');
    expect(builds.json).to.have.length(1);
  });

  it('fails a build of a directory no buildpack detects, with the reason in its output', async () => {
    const b = await call('POST', '/apps/bad/builds', rawTarGz([{ path: 'README.md', body: 'hi\n' }]));
    expect(b.status).to.equal(201);
    const done = await waitBuild(b.json.id);
    expect(done.status).to.equal('failed');
    expect(done.error).to.match(/no buildpack detected/);
  });
});
