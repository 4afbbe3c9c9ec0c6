/**
 * `// +heroku goVersion go1.25` on a machine whose Go is newer: the newest go1.25.x toolchain
 * comes from the Go module proxy, the binary is built by it (runtime.Version says so), and a
 * rebuild uses the cached toolchain. Also the pure rules: which line of go.mod wins.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testBuildpack } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import { parseGoMod } from './go-mod.js';
import { goRequest, toolchainReleases } from './go-runtime.js';
import go from './index.js';

const fixture = fileURLToPath(new URL('../test/fixtures/heroku-go-version', import.meta.url));

describe('go buildpack: a Go version from the module proxy', function () {
  this.timeout(300_000);
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'slipway-go-runtime-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('reads +heroku goVersion before toolchain before the go line', () => {
    const mod = (lines: string[]) => parseGoMod(['module x', ...lines].join('\n'));
    expect(goRequest(mod(['// +heroku goVersion go1.25', 'go 1.22', 'toolchain go1.23.4']))).to.include({
      range: '1.25.x',
      kind: 'exact',
    });
    expect(goRequest(mod(['go 1.22', 'toolchain go1.23.4']))).to.include({ range: '1.23.4', kind: 'exact' });
    expect(goRequest(mod(['go 1.22']))).to.include({ range: '>=1.22.0', kind: 'minimum' });
    expect(goRequest(mod([]))).to.equal(undefined);
    expect(
      toolchainReleases(
        'v0.0.1-go1.25.0.linux-amd64\nv0.0.1-go1.25rc1.linux-amd64\nv0.0.1-go1.25.1.darwin-arm64\nv0.0.1-go1.21.linux-amd64\n',
        'linux-amd64',
      ),
    ).to.deep.equal(['1.25.0', '1.25rc1', '1.21.0']);
  });

  it('builds with the newest go1.25.x from the proxy, then from the cache', async () => {
    const cacheDir = join(work, 'cache');
    const cold = await testBuildpack(go, fixture, { cacheDir });
    let version: string;
    try {
      const text = cold.log.join('\n');
      const m = /-----> Installing Go (1\.25\.\d+)/.exec(text);
      expect(m, text).to.not.equal(null);
      version = m![1]!;
      expect(text).to.include(`Downloading golang.org/toolchain@v0.0.1-go${version}.linux-amd64`);
      const web = await cold.start('web', { env: { PATH: '/usr/bin:/bin' } });
      expect(await (await web.fetch('/')).text()).to.equal(`go${version}`);
    } finally {
      await cold.cleanup();
    }
    const warm = await testBuildpack(go, fixture, { cacheDir });
    try {
      const text = warm.log.join('\n');
      expect(text).to.include(`-----> Installing Go ${version}`).and.include(`Using cached Go ${version}`);
      expect(text).not.to.include('Downloading golang.org/toolchain');
    } finally {
      await warm.cleanup();
    }
  });
});
