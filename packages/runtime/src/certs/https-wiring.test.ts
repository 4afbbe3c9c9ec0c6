import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kernel } from '@slipway/core';
import { expect } from 'chai';
import { SqliteStateStore } from '../state/sqlite-state-store.js';
import { type PlatformHttpsOptions, startHttps } from './https-wiring.js';
import { testCaOrSkip } from './test-certs.test-helper.js';

describe('HTTPS settings of the platform (config file and options)', () => {
  let dir: string;
  let state: SqliteStateStore;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-https-wiring-'));
    state = new SqliteStateStore(join(dir, 'state.db'));
  });
  after(() => {
    state.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = (options: PlatformHttpsOptions) =>
    startHttps({ kernel: new Kernel(), state, event: () => {}, options, baseDir: dir }).then(
      () => undefined,
      (e: { code?: string; message: string }) => e,
    );

  it('refuses a bad port, half a certificate pair, a missing or expired file, each by code and naming it', async function () {
    expect(await start({ port: 'abc' as unknown as number })).to.include({
      code: 'SLIPWAY_ERR_CERT_HTTPS_CONFIG',
    });
    expect((await start({ publicPort: 70000 }))?.message).to.match(/publicPort/);
    expect((await start({ certificate: 'wild.pem' }))?.message).to.match(/key is missing/);
    const missing = await start({ certificate: 'nope.pem', key: 'nope.key' });
    expect(missing).to.include({ code: 'SLIPWAY_ERR_CERT_PEM' });
    expect(missing?.message).to.contain(join(dir, 'nope.pem'));
    const ca = await testCaOrSkip(this, dir);
    const old = await ca.leaf('old', ['*.apps.test'], { days: -1 });
    expect(await start({ certificate: old.certFile, key: old.keyFile })).to.include({
      code: 'SLIPWAY_ERR_CERT_EXPIRED',
    });
    // A good pair (relative to the config file's directory) starts.
    const good = await ca.leaf('good', ['*.apps.test']);
    expect(await start({ certificate: 'good.crt', key: 'good.key', port: 0 })).to.equal(undefined);
    expect(good.certFile).to.equal(join(dir, 'good.crt'));
  });
});
