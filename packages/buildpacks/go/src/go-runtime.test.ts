/**
 * Which line of go.mod names the Go, and which toolchain module versions are releases for this
 * machine. The download itself (a go1.25.x from the module proxy, built with and then taken from
 * the cache) is tested end to end by the runtime's heroku-apps push test, which builds the same
 * toolchain once instead of twice per test run (compiling the standard library takes a minute).
 */
import { expect } from 'chai';
import { parseGoMod } from './go-mod.js';
import { goRequest, toolchainReleases } from './go-runtime.js';

describe('go buildpack: a Go version from the module proxy', () => {
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
});
