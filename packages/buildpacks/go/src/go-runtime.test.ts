/**
 * Which line of go.mod names the Go, which toolchain module versions are releases for this
 * machine, and that the platform's own release needs no proxy. The download itself (a go1.25.x
 * from the module proxy, built with and then taken from the cache) is tested end to end by the
 * runtime's heroku-apps push test, which builds the same toolchain once instead of twice per test
 * run (compiling the standard library takes a minute).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createBuildLog, createCompileContext } from '@slipway/buildpack-sdk';
import { expect } from 'chai';
import { parseGoMod } from './go-mod.js';
import { goRequest, resolveGo, toolchainReleases } from './go-runtime.js';

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

  it("uses the platform's Go for a toolchain line naming its very release, without asking the proxy", async function () {
    const r = await promisify(execFile)('go', ['env', 'GOVERSION']).catch(() => undefined);
    if (!r) {
      if (process.env.CI) throw new Error('go is not installed (CI installs it)');
      console.warn('    ⚠ SKIPPED: needs Go on PATH');
      this.skip();
    }
    const host = r.stdout.trim();
    const work = await mkdtemp(join(tmpdir(), 'slipway-go-host-'));
    try {
      const lines: string[] = [];
      const ctx = createCompileContext(
        {
          buildpack: 'go',
          buildDir: work,
          cacheDir: join(work, 'cache'),
          envDir: work,
          // A proxy that cannot answer: the build must not need it.
          env: { GOPROXY: 'http://127.0.0.1:1' },
          exports: {},
          stack: { id: 'test', description: 'the build machine' },
          appJson: undefined,
          log: createBuildLog((l) => lines.push(l)),
          signal: new AbortController().signal,
        },
        'go',
      );
      const mod = parseGoMod(`module x\ngo 1.21\ntoolchain ${host}\n`);
      expect(await resolveGo(ctx, mod, { GOTOOLCHAIN: 'local' })).to.deep.equal({
        version: host,
        command: 'go',
        source: 'platform',
      });
      expect(lines.join('\n')).to.include(`Using Go ${host.slice(2)} (installed)`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
