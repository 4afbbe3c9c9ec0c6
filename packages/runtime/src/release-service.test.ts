/**
 * Release safety through the real platform (in-process, short timeouts): a web process that
 * never binds $PORT (R10) and a failing app.json healthcheck each fail the release, and the
 * previous release keeps serving; a passing healthcheck goes live.
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { packDir } from './demo.js';
import { type Platform, startPlatform } from './platform.js';
import {
  fixtureCopy,
  nodeOnlyConfig,
  removeFixtureCopies,
  servedVersion,
} from './platform-harness.test-helper.js';

describe('releases: boot timeout and healthchecks (real platform)', function () {
  this.timeout(180_000);
  let dir: string;
  let p: Platform;
  const api = async (method: string, path: string, body?: string | Buffer) => {
    const r = await fetch(new URL(path, p.apiUrl), {
      method,
      headers: { authorization: `Bearer ${p.token}` },
      ...(body ? { body } : {}),
    });
    return (await r.json()) as any;
  };
  const serving = () => servedVersion(p.routerPort, 'safe');
  const deploy = async (files: Record<string, string>) => {
    const file = await packDir(await fixtureCopy('hello', files));
    const b = await api('POST', '/apps/safe/builds', await readFile(file));
    for (;;) {
      const now = await api('GET', `/apps/safe/builds/${b.id}`);
      if (now.status !== 'pending') return now;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-rel-'));
    await chmod(dir, 0o755);
    p = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile: await nodeOnlyConfig(dir),
      bootTimeoutMs: 2500,
      stopGraceMs: 1000,
    });
    await api('POST', '/apps', JSON.stringify({ name: 'safe' }));
    expect((await deploy({ VERSION: 'good' })).release).to.deep.equal({ version: 1 });
  });
  after(async () => {
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  it('fails a release whose web process never binds $PORT (R10); the old release keeps serving', async () => {
    const b = await deploy({ VERSION: 'silent', Procfile: 'web: node -e "setInterval(() => {}, 1000)"\n' });
    expect(b.release).to.equal(null);
    expect(b.error).to.match(/R10|bind \$PORT/);
    // The dyno manager's error already names what keeps serving; the release's must not repeat it.
    expect(b.error.match(/keeps serving/g), b.error).to.have.length(1);
    expect(await serving()).to.equal('good');
    const rels = await api('GET', '/apps/safe/releases');
    expect(rels.at(-1)).to.include({ version: 2, status: 'failed' });
    const logs = await (
      await fetch(new URL('/apps/safe/logs?n=200', p.apiUrl), {
        headers: { authorization: `Bearer ${p.token}` },
      })
    ).text();
    expect(logs).to.match(/Error R10 \(Boot timeout\)/);
  });

  it('fails a release whose app.json healthcheck does not answer 2xx', async () => {
    const b = await deploy({
      VERSION: 'sick',
      'app.json': JSON.stringify({ healthchecks: { web: [{ type: 'startup', path: '/unhealthy' }] } }),
    });
    expect(b.release).to.equal(null);
    expect(b.error).to.match(/unhealthy/);
    expect(await serving()).to.equal('good');
  });

  it('goes live when the healthcheck passes', async () => {
    const b = await deploy({
      VERSION: 'healthy',
      'app.json': JSON.stringify({ healthchecks: { web: [{ type: 'startup', path: '/health' }] } }),
    });
    expect(b.release).to.deep.equal({ version: 4 });
    expect(await serving()).to.equal('healthy');
  });
});
