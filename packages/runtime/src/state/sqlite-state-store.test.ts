/** The SQLite state store against real database files. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSlipwayError } from '@slipway/core';
import { expect } from 'chai';
import { migrations } from './migrations.js';
import { SqliteStateStore } from './sqlite-state-store.js';

const WRITER = fileURLToPath(new URL('../../test/fixtures/state-writer/writer.mjs', import.meta.url));

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isSlipwayError(e) ? e.code : String(e);
  }
  return undefined;
}

describe('SqliteStateStore', () => {
  let dir: string;
  let store: SqliteStateStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-state-'));
    store = new SqliteStateStore(join(dir, 'state.db'));
  });
  afterEach(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('opens in WAL mode with synchronous=FULL and records applied migrations once', () => {
    expect(store.db.pragma('journal_mode', { simple: true })).to.equal('wal');
    expect(store.db.pragma('synchronous', { simple: true })).to.equal(2);
    expect(store.schemaVersion).to.equal(migrations.at(-1)?.version);
    store.close();
    store = new SqliteStateStore(join(dir, 'state.db'));
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).to.deep.equal({
      n: migrations.length,
    });
  });

  it('accepts app names by allow-list only and refuses duplicates', () => {
    for (const bad of ['A', 'a', '1app', 'my_app', 'my app', 'app;rm -rf', '../x', `a${'b'.repeat(30)}`, ''])
      expect(
        code(() => store.createApp(bad)),
        bad,
      ).to.equal('SLIPWAY_ERR_RUNTIME_APP_NAME');
    store.createApp('my-app-2');
    expect(code(() => store.createApp('my-app-2'))).to.equal('SLIPWAY_ERR_RUNTIME_APP_EXISTS');
    expect(code(() => store.app('nope'))).to.equal('SLIPWAY_ERR_RUNTIME_APP_NOT_FOUND');
    expect(store.listApps().map((a) => a.name)).to.deep.equal(['my-app-2']);
  });

  it('numbers releases per app and finds the live one', () => {
    const a = store.createApp('one');
    const b = store.createApp('two');
    const r1 = store.createRelease(a.id, { description: 'd1', slug: null, config: {} });
    store.createRelease(b.id, { description: 'other', slug: null, config: {} });
    const r2 = store.createRelease(a.id, { description: 'd2', slug: null, config: { K: 'v' } });
    expect([r1.version, r2.version]).to.deep.equal([1, 2]);
    expect(store.currentRelease(a.id)).to.equal(undefined);
    store.setReleaseStatus(a.id, 1, 'succeeded');
    store.setReleaseStatus(a.id, 2, 'failed', 'boom');
    expect(store.currentRelease(a.id)?.version).to.equal(1);
    expect(store.release(a.id, 2)).to.include({ status: 'failed', error: 'boom' });
    expect(store.release(a.id, 2)?.config).to.deep.equal({ K: 'v' });
  });

  it('keeps config, formation, domains and add-ons per app, and deletes them with it', () => {
    const a = store.createApp('keep');
    store.replaceConfig(a.id, { A: '1', B: '2' });
    store.setFormation(a.id, [{ type: 'web', quantity: 2 }], 'standard-1x');
    store.setFormation(a.id, [{ type: 'web', size: 'standard-2x' }], 'standard-1x');
    store.addDomain(a.id, 'www.example.com');
    expect(code(() => store.addDomain(a.id, 'www.example.com'))).to.equal('SLIPWAY_ERR_RUNTIME_DOMAIN');
    store.addAddon({
      id: 'x1',
      appId: a.id,
      service: 'redis',
      plan: 'mini',
      name: 'REDIS',
      providerId: 'p',
      configVars: ['REDIS_URL'],
    });
    expect(store.config(a.id)).to.deep.equal({ A: '1', B: '2' });
    expect(store.formation(a.id)).to.have.length(1);
    expect(store.formation(a.id)[0]).to.include({ type: 'web', quantity: 2, size: 'standard-2x' });
    expect(store.domains().map((d) => d.hostname)).to.deep.equal(['www.example.com']);
    expect(store.addons(a.id)[0]?.configVars).to.deep.equal(['REDIS_URL']);
    store.deleteApp('keep');
    for (const t of ['config_vars', 'formation', 'domains', 'addons', 'releases'])
      expect(store.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get(), t).to.deep.equal({ n: 0 });
  });

  it('stores only token hashes and verifies tokens', () => {
    const { token } = store.createToken('admin');
    expect(store.verifyToken(token)).to.equal(true);
    expect(store.verifyToken(`${token}x`)).to.equal(false);
    expect(store.verifyToken('')).to.equal(false);
    const raw = JSON.stringify(store.db.prepare('SELECT * FROM tokens').all());
    expect(raw).to.not.include(token);
  });

  it('marks builds and releases left pending by a killed platform as failed', () => {
    const a = store.createApp('pend');
    store.createBuild(a.id);
    store.createRelease(a.id, { description: 'x', slug: null, config: {} });
    expect(store.failInterrupted()).to.deep.equal({ builds: 1, releases: 1 });
    expect(store.listBuilds(a.id)[0]?.status).to.equal('failed');
    expect(store.release(a.id, 1)?.status).to.equal('failed');
  });

  // Issue 11 (6): a config change is written with its release, before the release goes live; a
  // platform killed in between must come back with the config of the release that serves.
  it('gives an app whose release was interrupted the config of its live release back', () => {
    const a = store.createApp('cfg');
    store.replaceConfig(a.id, { A: '1' });
    store.createRelease(a.id, { description: 'v1', slug: null, config: { A: '1' }, status: 'succeeded' });
    store.replaceConfig(a.id, { A: '2', B: 'new' });
    store.createRelease(a.id, { description: 'Set A, B', slug: null, config: { A: '2', B: 'new' } });
    const other = store.createApp('cfg-untouched');
    store.replaceConfig(other.id, { KEEP: 'me' });
    expect(store.failInterrupted().releases).to.equal(1);
    expect(store.config(a.id)).to.deep.equal({ A: '1' });
    expect(store.currentRelease(a.id)?.config).to.deep.equal({ A: '1' });
    expect(store.config(other.id)).to.deep.equal({ KEEP: 'me' });
  });

  it('loses no committed transaction when the writing process is SIGKILLed', async function () {
    this.timeout(30_000);
    store.close();
    const file = join(dir, 'state.db');
    const child = spawn(process.execPath, [WRITER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (out.split('\n').length > 300) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const reported = out
      .split('\n')
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
    store = new SqliteStateStore(file);
    const a = store.app('durable');
    const last = store.listReleases(a.id).at(-1)?.version ?? 0;
    expect(last).to.be.at.least(reported.at(-1) as number);
    // The config written in the same transaction as the newest release is there too.
    expect(store.config(a.id).N).to.equal(String(last - 1));
  });
});
