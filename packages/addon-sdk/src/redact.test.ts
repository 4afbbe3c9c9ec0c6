import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { AddonHost } from './addon-host.js';
import { captureLog, dirProvider } from './provider-fixture.test.js';
import { generateSecret, Redactor } from './redact.js';

describe('addon-sdk redaction', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'addon-sdk-redact-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('generates URL-safe, distinct secrets of the requested size', () => {
    const a = generateSecret();
    const b = generateSecret(48);
    expect(a).to.match(/^[A-Za-z0-9_-]{32}$/);
    expect(b).to.match(/^[A-Za-z0-9_-]{64}$/);
    expect(a).not.to.equal(generateSecret());
  });

  it('redacts secrets, config values and URL passwords, leaving short values alone', () => {
    const r = new Redactor();
    r.add('s3cr3t-value');
    r.addConfig({ X_URL: 'postgres://user:p%40ss-word@db:5432/x', PORT: '5432' });
    expect(r.redact('got s3cr3t-value and s3cr3t-value')).to.equal('got [REDACTED] and [REDACTED]');
    expect(r.redact('url postgres://user:p%40ss-word@db:5432/x')).to.equal('url [REDACTED]');
    expect(r.redact('pw p@ss-word / p%40ss-word')).to.equal('pw [REDACTED] / [REDACTED]');
    expect(r.redact('port 5432')).to.equal('port [REDACTED]');
    r.add('abc');
    expect(r.redact('abc')).to.equal('abc');
  });

  it("keeps every generated secret and returned config value out of the provider's log", async () => {
    const log = captureLog();
    const host = new AddonHost(dirProvider(), { dataDir: dir, log: log.write });
    const rec = await host.provision({
      service: 'dirkv',
      plan: '',
      uuid: 'u-redact-1',
      app: 'a',
      name: '',
      options: {},
    });
    host.ctx.log.warn(`config is ${JSON.stringify(rec.config)}`);
    host.ctx.log.error(`url ${rec.config.DIRKV_URL}`);
    const text = log.lines.join('\n');
    expect(log.lines.length).to.equal(3);
    expect(text).to.contain('[REDACTED]');
    expect(text).not.to.contain(rec.config.DIRKV_TOKEN);
    expect(text).not.to.contain(rec.config.DIRKV_URL);
    // A secret generated but never returned is redacted too.
    const s = host.ctx.secret();
    host.ctx.log.info(`new secret ${s}`);
    expect(log.lines.at(-1)).to.equal('info: new secret [REDACTED]');
    // After a restart, stored config values are still redacted.
    const log2 = captureLog();
    const again = new AddonHost(dirProvider(), { dataDir: dir, log: log2.write });
    await again.start();
    again.ctx.log.info(`token ${rec.config.DIRKV_TOKEN}`);
    expect(log2.lines).to.deep.equal(['info: token [REDACTED]']);
  });
});
