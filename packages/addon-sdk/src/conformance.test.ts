import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { conformanceCheckNames, describeConformance, runConformance } from './conformance.js';
import { defineAddon } from './define-addon.js';
import { dirProvider } from './provider-fixture.test.js';
import { type AddonServer, serveAddon } from './serve-addon.js';

const failed = (r: { checks: { name: string; ok: boolean }[] }) =>
  r.checks.filter((c) => !c.ok).map((c) => c.name);

describe('addon-sdk conformance kit', function () {
  this.timeout(30_000);

  it('passes a good in-process provider (plugin or bare definition)', async () => {
    const r = await runConformance(defineAddon(dirProvider()));
    expect(failed(r)).to.deep.equal([]);
    expect(r.ok).to.equal(true);
    expect(r.checks.map((c) => c.name)).to.deep.equal(conformanceCheckNames(dirProvider()));
    expect((await runConformance(dirProvider(), { plans: ['large', 'small'] })).ok).to.equal(true);
  });

  it('fails a provider that omits a declared var, with the var named', async () => {
    const r = await runConformance(
      dirProvider({ provision: (req) => ({ id: `x-${req.uuid}`, config: { DIRKV_URL: 'http://h/x' } }) }),
    );
    expect(r.ok).to.equal(false);
    const c = r.checks.find((x) => x.name.startsWith('config vars'))!;
    expect(c.ok).to.equal(false);
    expect(c.detail).to.contain('DIRKV_TOKEN').and.contain('KV_URL');
  });

  it('fails a provider whose plan change or deprovision throws, and one with an invalid manifest', async () => {
    const r = await runConformance(
      dirProvider({
        planChange: () => {
          throw new Error('cannot resize');
        },
        deprovision: () => {
          throw new Error('disk busy');
        },
      }),
    );
    expect(failed(r)).to.deep.equal([
      'plan change succeeds and keeps the id',
      'deprovision succeeds',
      'second deprovision succeeds',
    ]);
    expect(r.checks.find((c) => c.name === 'deprovision succeeds')!.detail).to.contain('disk busy');
    const bad = await runConformance(dirProvider({ configVars: ['dirkv_url'] }));
    expect(bad.ok).to.equal(false);
    expect(bad.checks[0]!.ok).to.equal(false);
    expect(bad.checks.slice(1).every((c) => c.detail.startsWith('not run'))).to.equal(true);
  });

  describe('remote targets', () => {
    let dataDir: string;
    let server: AddonServer;
    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'addon-sdk-conf-'));
      server = await serveAddon(dirProvider({ delayMs: 300 }), {
        password: 'remote-pass-1',
        dataDir,
        asyncAfterMs: 100,
        log: () => {},
      });
    });
    after(async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('passes a partner API server, including async provisioning and the 401 checks', async () => {
      const manifest = defineAddon(dirProvider()).manifest;
      const r = await runConformance({ url: server.url, manifest, password: 'remote-pass-1' });
      expect(failed(r)).to.deep.equal([]);
      expect(r.checks).to.have.length(9);
    });

    it('fails every provisioning check with the wrong password, still running the 401 checks', async () => {
      const manifest = defineAddon(dirProvider()).manifest;
      const r = await runConformance({ url: server.url, manifest, password: 'not-the-password' });
      expect(failed(r)).to.deep.equal(r.checks.slice(1, 7).map((c) => c.name));
      expect(r.checks[1]!.detail).to.contain('credentials');
      expect(r.checks.slice(7).every((c) => c.ok)).to.equal(true);
    });

    it('fails a server that accepts any credentials', async () => {
      // A provider that answers like a partner API but never checks Basic auth.
      const lax = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              id: 'lax-1',
              config: { DIRKV_URL: 'http://h/1', DIRKV_TOKEN: 't', KV_URL: 'http://h/1' },
            }),
          );
        });
      });
      await new Promise<void>((r) => lax.listen(0, '127.0.0.1', () => r()));
      try {
        const port = (lax.address() as { port: number }).port;
        const manifest = defineAddon(dirProvider()).manifest;
        const r = await runConformance({
          url: `http://127.0.0.1:${port}/heroku/resources`,
          manifest,
          password: 'x-pass-123',
        });
        expect(failed(r)).to.deep.equal([
          'bad credentials are refused with 401',
          'missing credentials are refused with 401',
        ]);
        expect(r.checks.at(-1)!.detail).to.equal('answered 200');
      } finally {
        await new Promise((r) => lax.close(r));
      }
    });
  });
});

// describeConformance as a provider's own suite would use it: one `it` per check.
describeConformance(defineAddon(dirProvider()), { title: 'addon-sdk describeConformance (in-process)' });
