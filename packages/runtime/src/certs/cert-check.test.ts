import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { checkCertificate, namesCover } from './cert-check.js';
import { type TestCa, testCaOrSkip } from './test-certs.test-helper.js';

describe('certificate checks (real openssl certificates, node:crypto X509Certificate)', () => {
  let dir: string;
  let ca: TestCa;
  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'slipway-cert-check-'));
    ca = await testCaOrSkip(this, dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return undefined;
  };

  it('accepts a chain in order with its key, and reads names, dates, issuer and fingerprint', async () => {
    const p = await ca.leaf('ok', ['www.shop.test', 'shop.test']);
    const c = checkCertificate(p.cert, p.key);
    expect(c.names).to.deep.equal(['www.shop.test', 'shop.test']);
    expect(c.chainLength).to.equal(2);
    expect(c.issuer).to.contain('Slipway Test Intermediate');
    expect(c.selfSigned).to.equal(false);
    expect(c.fingerprint).to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(c.notAfter.getTime()).to.be.greaterThan(Date.now());
  });

  it('refuses a key of another certificate, a chain out of order, an expired certificate and garbage, by code', async () => {
    const a = await ca.leaf('a', ['a.test']);
    const b = await ca.leaf('b', ['b.test']);
    expect(code(() => checkCertificate(a.cert, b.key))).to.equal('SLIPWAY_ERR_CERT_KEY_MISMATCH');
    const leafOnly = a.cert.slice(0, a.cert.indexOf('-----END CERTIFICATE-----') + 25);
    const reversed = `${await ca.intermediate()}\n${leafOnly}\n`;
    // The intermediate first: its key is not the leaf's.
    expect(code(() => checkCertificate(reversed, a.key))).to.equal('SLIPWAY_ERR_CERT_KEY_MISMATCH');
    const twoLeaves = `${leafOnly}\n${b.cert}`;
    expect(code(() => checkCertificate(twoLeaves, a.key))).to.equal('SLIPWAY_ERR_CERT_CHAIN_ORDER');
    const old = await ca.leaf('old', ['old.test'], { days: -1 });
    expect(code(() => checkCertificate(old.cert, old.key))).to.equal('SLIPWAY_ERR_CERT_EXPIRED');
    expect(code(() => checkCertificate('hello', a.key))).to.equal('SLIPWAY_ERR_CERT_PEM');
    expect(code(() => checkCertificate(a.cert, 'not a key'))).to.equal('SLIPWAY_ERR_CERT_PEM');
  });

  it('matches wildcards on exactly one label', () => {
    expect(namesCover(['*.apps.test'], 'x.apps.test')).to.equal(true);
    expect(namesCover(['*.apps.test'], 'y.x.apps.test')).to.equal(false);
    expect(namesCover(['*.apps.test'], 'apps.test')).to.equal(false);
    expect(namesCover(['a.test'], 'a.test')).to.equal(true);
  });
});
