import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runConformance } from './conformance.js';
import { isAddonPlugin } from './define-addon.js';
import { loadConformanceTarget } from './load-target.js';
import { serveAddon } from './serve-addon.js';

const fixtures = fileURLToPath(new URL('../test/fixtures', import.meta.url));

describe('addon-sdk loadConformanceTarget (what addon:test checks)', function () {
  this.timeout(30_000);

  it('loads a provider from a directory (exports "."), a module file, and checks it in-process', async () => {
    const t = await loadConformanceTarget('./provider', { cwd: fixtures });
    expect(isAddonPlugin(t)).to.equal(true);
    const f = await loadConformanceTarget(`${fixtures}/provider/provider.js`);
    expect(isAddonPlugin(f)).to.equal(true);
    expect((await runConformance(t)).ok).to.equal(true);
  });

  it('turns a module or a manifest into a remote target with --url, using api.password by default', async () => {
    const mod = await loadConformanceTarget('./provider', { cwd: fixtures });
    const dataDir = await mkdtemp(join(tmpdir(), 'addon-sdk-load-'));
    const server = await serveAddon(mod as never, { log: () => {}, dataDir });
    try {
      const t = await loadConformanceTarget('./provider/manifest.json', { cwd: fixtures, url: server.url });
      expect(t).to.deep.include({ url: server.url, password: 'fixture-password' });
      const report = await runConformance(t);
      expect(report.checks.filter((c) => !c.ok)).to.deep.equal([]);
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('names what is wrong: missing path, missing package, manifest without --url, not an add-on', async () => {
    const codes: string[] = [];
    for (const [spec, opts] of [
      ['./nope', { cwd: fixtures }],
      ['no-such-addon-package', { cwd: fixtures }],
      ['./provider/manifest.json', { cwd: fixtures }],
      ['./provider/package.json', { cwd: fixtures, url: 'http://127.0.0.1:1/heroku/resources' }],
    ] as const)
      await loadConformanceTarget(spec, opts).then(
        () => codes.push('none'),
        (e) => codes.push(`${e.code}${/manifest|--url|exist|installed/.test(e.message) ? '' : ' (vague)'}`),
      );
    expect(codes.slice(0, 3)).to.deep.equal(Array(3).fill('SLIPWAY_ERR_ADDON_LOAD'));
    // package.json is JSON, so it is read as a manifest and refused as one.
    expect(codes[3]).to.match(/^SLIPWAY_ERR_ADDON_MANIFEST/);
  });
});
