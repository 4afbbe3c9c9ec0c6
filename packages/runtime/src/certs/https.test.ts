/**
 * HTTPS end to end on a real platform: certificates uploaded with the CLI are served by the
 * router's HTTPS listener per SNI (checked with a real TLS client that trusts only the test
 * root, through the intermediate the chain carries), bad uploads are refused by code, and the
 * per-app redirect and HSTS go through the `route` hook. The ACME part is in acme.test.ts.
 */
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type Platform, startPlatform } from '../platform.js';
import { nodeOnlyConfig, removeFixtureCopies } from '../platform-harness.test-helper.js';
import { cli, deployEcho, httpGet, tlsGet } from './https-platform.test-helper.js';
import { type TestCa, type TestPair, testCaOrSkip } from './test-certs.test-helper.js';

describe('HTTPS: uploaded certificates, SNI, redirect and HSTS (real platform, real TLS)', function () {
  this.timeout(180_000);
  let dir: string;
  let ca: TestCa;
  let p: Platform;
  let wildcard: TestPair;
  let port: number;
  let start: () => Promise<Platform>;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'slipway-https-'));
    await chmod(dir, 0o755);
    ca = await testCaOrSkip(this, dir);
    wildcard = await ca.leaf('wildcard', ['*.apps.test']);
    const configFile = await nodeOnlyConfig(dir);
    start = () =>
      startPlatform({
        dataDir: join(dir, 'data'),
        routerPort: 0,
        apiPort: 0,
        baseDomain: 'apps.test',
        configFile,
        https: { certificate: wildcard.certFile, key: wildcard.keyFile },
      });
    p = await start();
    port = p.routerHttpsPort!;
    await deployEcho(p, 'shop', ['www.shop.test', 'api.shop.test']);
    await deployEcho(p, 'other', ['other.test']);
  });
  after(async () => {
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  it('serves <app>.<base> with the base domain certificate and tells the dyno it was HTTPS', async () => {
    const r = await tlsGet(port, 'shop.apps.test', ca.rootPem, '/hi');
    expect(r.status).to.equal(200);
    expect(r.chain).to.deep.equal(['*.apps.test', 'Slipway Test Intermediate', 'Slipway Test Root']);
    const seen = JSON.parse(r.body);
    expect(seen.headers['x-forwarded-proto']).to.equal('https');
    expect(seen.headers['x-forwarded-port']).to.equal(String(port));
  });

  it('serves an uploaded chain for its custom domain via SNI at once, and never to another app', async () => {
    const shop = await ca.leaf('shop', ['www.shop.test']);
    const add = await cli(p, ['certs:add', shop.certFile, shop.keyFile, '-a', 'shop']);
    expect(add.code, add.stderr).to.equal(0);
    expect(add.stdout)
      .to.match(/sni-1/)
      .and.match(/www\.shop\.test/);
    const r = await tlsGet(port, 'www.shop.test', ca.rootPem);
    expect(r.status).to.equal(200);
    expect(r.chain).to.deep.equal(['www.shop.test', 'Slipway Test Intermediate', 'Slipway Test Root']);
    expect(JSON.parse(r.body).headers.host).to.equal('www.shop.test');
    // Another app's domain and an unknown name get the default certificate, not shop's.
    for (const name of ['other.test', 'unknown.test']) {
      const err = await tlsGet(port, name, ca.rootPem).then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(err?.code, name).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
      expect(err?.message).to.contain('*.apps.test');
    }
    const list = await cli(p, ['certs', '-a', 'shop', '--json']);
    const [c] = JSON.parse(list.stdout);
    expect(c).to.deep.include({ name: 'sni-1', source: 'upload', domains: ['www.shop.test'] });
    expect(c).to.not.have.property('private_key');
    const info = await cli(p, ['certs:info', '-a', 'shop']);
    expect(info.stdout).to.match(/Slipway Test Intermediate/);
    // The state file holding the keys is the platform's alone.
    expect((await stat(join(dir, 'data', 'state.db'))).mode & 0o777).to.equal(0o600);
  });

  it('refuses a mismatched pair, an expired certificate and one for names the app does not own, by code', async () => {
    const a = await ca.leaf('pair-a', ['api.shop.test']);
    const b = await ca.leaf('pair-b', ['api.shop.test']);
    const old = await ca.leaf('old', ['api.shop.test'], { days: -1 });
    const foreign = await ca.leaf('foreign', ['other.test']);
    const cases: [string[], RegExp][] = [
      [[a.certFile, b.keyFile], /SLIPWAY_ERR_CERT_KEY_MISMATCH/],
      [[old.certFile, old.keyFile], /SLIPWAY_ERR_CERT_EXPIRED/],
      [[foreign.certFile, foreign.keyFile], /SLIPWAY_ERR_CERT_NO_DOMAIN/],
      [[a.certFile, a.keyFile, '--domain', 'www.shop.test'], /SLIPWAY_ERR_CERT_DOMAIN/],
      [[a.keyFile, a.keyFile], /SLIPWAY_ERR_CERT_PEM/],
    ];
    for (const [args, code] of cases) {
      const r = await cli(p, ['certs:add', ...args, '-a', 'shop']);
      expect(r.code, args.join(' ')).to.not.equal(0);
      expect(r.stderr, args.join(' ')).to.match(code);
    }
    const off = await cli(p, ['certs:auto:refresh', '-a', 'shop']);
    expect(off.stderr)
      .to.match(/SLIPWAY_ERR_CERT_ACME_OFF/)
      .and.match(/certs:auto:enable/);
    // Nothing was stored, and api.shop.test still gets the default certificate.
    expect(JSON.parse((await cli(p, ['certs', '-a', 'shop', '--json'])).stdout)).to.have.length(1);
    const err = await tlsGet(port, 'api.shop.test', ca.rootPem).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('redirects HTTP to HTTPS and sends HSTS when the app asks, only for hosts with a certificate', async () => {
    expect((await cli(p, ['https:redirect:on', '-a', 'shop'])).code).to.equal(0);
    const hsts = await cli(p, ['https:hsts:on', '--max-age', '600', '-a', 'shop']);
    expect(hsts.stdout).to.match(/max-age=600/);
    const moved = await httpGet(p.routerPort, 'www.shop.test', '/cart?x=1');
    expect(moved.status).to.equal(308);
    expect(moved.headers.location).to.equal(`https://www.shop.test:${port}/cart?x=1`);
    // No certificate of its own for api.shop.test: redirecting there would break the app.
    expect((await httpGet(p.routerPort, 'api.shop.test')).status).to.equal(200);
    expect((await httpGet(p.routerPort, 'other.test')).status).to.equal(200);
    const secure = await tlsGet(port, 'www.shop.test', ca.rootPem, '/cart?x=1');
    expect(secure.status).to.equal(200);
    expect(secure.headers['strict-transport-security']).to.equal('max-age=600');
    const plain = await httpGet(p.routerPort, 'other.test');
    expect(plain.headers['strict-transport-security']).to.equal(undefined);
    await cli(p, ['https:redirect:off', '-a', 'shop']);
    await cli(p, ['https:hsts:off', '-a', 'shop']);
    expect((await httpGet(p.routerPort, 'www.shop.test')).status).to.equal(200);
    expect((await tlsGet(port, 'www.shop.test', ca.rootPem)).headers['strict-transport-security']).to.equal(
      undefined,
    );
  });

  it('certs:remove stops serving the certificate at once', async () => {
    const r = await cli(p, ['certs:remove', '-a', 'shop']);
    expect(r.code, r.stderr).to.equal(0);
    const err = await tlsGet(port, 'www.shop.test', ca.rootPem).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('keeps serving uploaded certificates after a platform restart', async () => {
    const shop = await ca.leaf('shop-again', ['www.shop.test']);
    expect((await cli(p, ['certs:add', shop.certFile, shop.keyFile, '-a', 'shop'])).code).to.equal(0);
    await p.stop();
    p = await start();
    const r = await tlsGet(p.routerHttpsPort!, 'www.shop.test', ca.rootPem);
    expect(r.chain[0]).to.equal('www.shop.test');
    expect((await stat(join(dir, 'data', 'state.db'))).mode & 0o777).to.equal(0o600);
  });
});
