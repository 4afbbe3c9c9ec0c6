import { expect } from 'chai';
import { compareVersions, parseCargoMetadata, parseRustcVersion, pickWebBinary } from './cargo.js';
import { cargoFailure } from './failure.js';
import { rootPackageName } from './index.js';

const metadata = (packages: object[], members: string[], root = '/app') =>
  JSON.stringify({ packages, workspace_members: members, workspace_root: root });
const pkg = (name: string, manifest: string, bins: string[], rust_version: string | null = null) => ({
  name,
  id: `path+file://${manifest}#${name}@0.1.0`,
  manifest_path: `${manifest}/Cargo.toml`,
  rust_version,
  targets: [{ name, kind: ['lib'] }, ...bins.map((b) => ({ name: b, kind: ['bin'] }))],
});

describe('rust buildpack: reading cargo and rustc output', () => {
  it('takes binaries of workspace members only, and the strictest rust-version', () => {
    const a = pkg('api', '/app', ['api', 'migrate'], '1.70');
    const b = pkg('tool', '/app/tool', ['tool'], '1.74.1');
    const dep = pkg('dep', '/reg/dep', ['dep-cli']);
    const app = parseCargoMetadata(metadata([a, b, dep], [a.id, b.id]));
    expect(app).to.deep.equal({
      rootPackage: 'api',
      rustVersion: '1.74.1',
      bins: ['api', 'migrate', 'tool'],
    });
  });

  it('has no root package in a virtual workspace', () => {
    const b = pkg('svc', '/app/svc', ['svc']);
    expect(parseCargoMetadata(metadata([b], [b.id])).rootPackage).to.equal(undefined);
  });

  it('rejects JSON that is not cargo metadata', () => {
    expect(() => parseCargoMetadata('{"x":1}')).to.throw(/without packages/);
  });

  it('compares versions numerically', () => {
    expect(compareVersions('1.9', '1.10')).to.be.lessThan(0);
    expect(compareVersions('1.70', '1.70.0')).to.equal(0);
    expect(compareVersions('1.80.1', '1.80')).to.be.greaterThan(0);
  });

  it('parses rustc -vV and refuses other text', () => {
    const text =
      'rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\ncommit-hash: 59807616e\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: 20.1.8\n';
    expect(parseRustcVersion(text)).to.deep.include({ release: '1.95.0', host: 'x86_64-unknown-linux-gnu' });
    expect(parseRustcVersion('bash: rustc: command not found')).to.equal(undefined);
  });

  it('picks the web binary: the only one, the root package, then web or server', () => {
    const app = (bins: string[], rootPackage?: string) => ({ bins, rootPackage, rustVersion: undefined });
    expect(pickWebBinary(app(['x']))).to.equal('x');
    expect(pickWebBinary(app(['migrate', 'api'], 'api'))).to.equal('api');
    expect(pickWebBinary(app(['worker', 'server'], 'lib-only'))).to.equal('server');
    expect(pickWebBinary(app(['a', 'b']))).to.equal(undefined);
  });

  it("reads the [package] name from Cargo.toml, not a dependency's", () => {
    const toml = '[dependencies]\nname = "nope"\n\n[package]\nversion = "1.0.0"\nname = "real"\n';
    expect(rootPackageName(toml)).to.equal('real');
    expect(rootPackageName('[workspace]\nmembers = ["a"]\n')).to.equal(undefined);
  });

  it('classifies cargo failures and keeps the telling line', () => {
    const compile =
      'Compiling x v0.1.0\nerror[E0425]: cannot find value `y` in this scope\n --> src/main.rs:2:20\n  |\nerror: could not compile `x`';
    expect(cargoFailure(compile)).to.deep.equal({
      kind: 'compile',
      line: 'error[E0425]: cannot find value `y` in this scope (src/main.rs:2:20)',
    });
    expect(
      cargoFailure(
        'error: the lock file /a/Cargo.lock needs to be updated but --locked was passed to prevent this',
      ).kind,
    ).to.equal('lockfile');
    expect(cargoFailure('error: no matching package named `nope-crate` found').kind).to.equal('dependency');
    expect(
      cargoFailure('error: failed to parse manifest at `/a/Cargo.toml`\n\nCaused by:\n  bad').kind,
    ).to.equal('manifest');
  });
});
