/**
 * Automated certificates end to end: `certs:auto:enable` obtains certificates from Pebble (Let's
 * Encrypt's test ACME server) for two custom domains, Pebble validating http-01 through the
 * platform's real router; the router serves them (verified up to Pebble's root); a forced
 * renewal replaces one while a bounded loop of fresh TLS connections sees no failure; a domain
 * that does not point here shows a failing status with the reason and is retried with back-off;
 * certificates valid 30 days and 20 s are renewed by the platform's timer 20 s after issue.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type Platform, startPlatform } from '../platform.js';
import { nodeOnlyConfig, removeFixtureCopies } from '../platform-harness.test-helper.js';
import type { AcmeDomainStatus } from './acme-service.js';
import { api, cli, deployEcho, tlsGet } from './https-platform.test-helper.js';
import { freePort, Pebble } from './pebble.test-helper.js';
import { testCaOrSkip } from './test-certs.test-helper.js';

const THIRTY_DAYS_S = 30 * 86_400;

describe('HTTPS: automated certificates over ACME (Pebble, real router)', function () {
  this.timeout(240_000);
  let dir: string;
  let p: Platform;
  let pebble: Pebble;
  let root: string;

  before(async function () {
    const bins = Pebble.binaries();
    if (!bins) {
      const why =
        'pebble and pebble-challtestsrv are not installed (go install github.com/letsencrypt/pebble/v2/cmd/pebble@latest and …/cmd/pebble-challtestsrv@latest; .ci/run does it)';
      if (process.env.CI === 'true') throw new Error(why);
      console.warn(`\n  !!! SKIPPED: ${why}\n`);
      this.skip();
    }
    dir = await mkdtemp(join(tmpdir(), 'slipway-acme-'));
    await chmod(dir, 0o755);
    const ca = await testCaOrSkip(this, dir);
    const routerPort = await freePort();
    // Certificates valid 30 days and 20 s: the platform's timer renews them 20 s after issue.
    pebble = await Pebble.start(bins, ca, dir, routerPort, THIRTY_DAYS_S + 20);
    root = await pebble.root();
    p = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort,
      apiPort: 0,
      httpsPort: 0,
      configFile: await nodeOnlyConfig(dir),
      // Pebble's HTTPS is trusted through the test CA, for acme-client only.
      https: {
        acme: { directoryUrl: pebble.directoryUrl, caCert: ca.rootPem, retryBaseMs: 1000, pollMs: 200 },
      },
    });
    await deployEcho(p, 'acm', ['a.acm.test', 'b.acm.test']);
  });
  after(async () => {
    await p?.stop();
    await pebble?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  const status = async (): Promise<Record<string, AcmeDomainStatus>> => {
    const s = await api(p, 'GET', '/apps/acm/acm');
    return Object.fromEntries(s.domains.map((d: AcmeDomainStatus) => [d.hostname, d]));
  };
  const until = async (what: string, fn: () => Promise<boolean>, ms = 90_000) => {
    const end = Date.now() + ms;
    while (!(await fn())) {
      if (Date.now() > end)
        throw new Error(
          `timed out waiting for ${what}: ${JSON.stringify(await status())}; pebble said:\n${pebble.output.join('').slice(-1500)}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it('certs:auto:enable obtains a certificate per custom domain from Pebble; the router serves them', async () => {
    const on = await cli(p, ['certs:auto:enable', '-a', 'acm']);
    expect(on.code, on.stderr).to.equal(0);
    await until('both certificates', async () => {
      const s = await status();
      return s['a.acm.test']?.status === 'cert issued' && s['b.acm.test']?.status === 'cert issued';
    });
    for (const host of ['a.acm.test', 'b.acm.test']) {
      const r = await tlsGet(p.routerHttpsPort!, host, root);
      expect(r.status).to.equal(200);
      expect(r.chain.length, r.chain.join(' < ')).to.be.greaterThanOrEqual(3);
      expect(r.chain.at(-1)).to.match(/Pebble Root CA/);
      expect(JSON.parse(r.body).headers['x-forwarded-proto']).to.equal('https');
    }
    const shown = await cli(p, ['certs:auto', '-a', 'acm']);
    expect(shown.stdout).to.match(/a\.acm\.test\s+cert issued/);
    const certs = JSON.parse((await cli(p, ['certs', '-a', 'acm', '--json'])).stdout);
    expect(certs.map((c: { name: string }) => c.name).sort()).to.deep.equal([
      'acm-a.acm.test',
      'acm-b.acm.test',
    ]);
  });

  it('a forced renewal replaces the certificate without a failed request', async () => {
    const before = (await tlsGet(p.routerHttpsPort!, 'a.acm.test', root)).fingerprint;
    const refresh = cli(p, ['certs:auto:refresh', '-a', 'acm']);
    let ok = 0;
    let failed = 0;
    let after = before;
    let extra = 0;
    // Bounded: at most 2000 requests or 90 s; 20 more once the new certificate shows.
    for (const end = Date.now() + 90_000; ok + failed < 2000 && Date.now() < end && extra < 20; ) {
      try {
        const r = await tlsGet(p.routerHttpsPort!, 'a.acm.test', root);
        if (r.status === 200) ok++;
        else failed++;
        after = r.fingerprint;
      } catch {
        failed++;
      }
      if (after !== before) extra++;
    }
    expect((await refresh).code).to.equal(0);
    expect(failed, `${failed} of ${ok + failed} requests failed`).to.equal(0);
    expect(after, 'the certificate was replaced').to.not.equal(before);
    expect(ok).to.be.greaterThan(20);
  });

  it('a domain that does not point here shows a failing status with the reason, retried with back-off', async () => {
    await pebble.pointAt('bad.acm.test', '127.0.0.2');
    await api(p, 'POST', '/apps/acm/domains', { hostname: 'bad.acm.test' });
    await until(
      'two failed attempts',
      async () => ((await status())['bad.acm.test']?.attempts ?? 0) >= 2,
      60_000,
    );
    const bad = (await status())['bad.acm.test']!;
    expect(bad.status).to.equal('failing');
    expect(bad.reason).to.match(/bad\.acm\.test could not be validated: .*127\.0\.0\.2/);
    expect(bad.reason).to.match(/Point bad\.acm\.test's DNS at this platform/);
    expect(Date.parse(bad.nextAttemptAt!)).to.be.greaterThan(Date.now() - 1000);
    const logs = await (
      await fetch(new URL('/apps/acm/logs?n=300', p.apiUrl), {
        headers: { authorization: `Bearer ${p.token}` },
      })
    ).text();
    // 1 s, then 2 s: the wait doubles.
    expect(logs)
      .to.match(/attempt 1; next in 1 s/)
      .and.match(/attempt 2; next in 2 s/);
    const shown = await cli(p, ['certs:auto', '-a', 'acm']);
    expect(shown.stdout).to.match(/bad\.acm\.test\s+failing/);
    // The other domains keep their certificates.
    expect((await status())['a.acm.test']!.status).to.equal('cert issued');
  });

  it('renews on its own, by timer, 30 days before expiry and not sooner', async () => {
    const first = (await status())['a.acm.test']!.expiresAt!;
    const renewAt = Date.parse(first) - THIRTY_DAYS_S * 1000;
    await until('the timer renewal', async () => (await status())['a.acm.test']!.expiresAt! > first, 60_000);
    // Seen after the renewal time (allowing for a clock read between the platform and here).
    expect(Date.now()).to.be.greaterThan(renewAt - 1000);
    const served = await tlsGet(p.routerHttpsPort!, 'a.acm.test', root);
    expect(served.status).to.equal(200);
  });
});
