/** Debian packages as a runtime source: apt sources, the Packages index, unpacking a real .deb. */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import {
  debianSource,
  debianSuitesFrom,
  glibcAtLeast,
  parsePackages,
  runningGlibc,
  unpackDebianPackages,
} from './debian-packages.js';

const execFileP = promisify(execFile);

const INDEX = `Package: python3.13
Version: 3.13.5-2+deb13u5
Filename: pool/main/p/python3.13/python3.13_3.13.5-2+deb13u5_amd64.deb
SHA256: ${'a'.repeat(64)}

Package: python3.13-dev
Version: 3.13.5-2+deb13u5
Filename: pool/main/p/python3.13/python3.13-dev_3.13.5-2+deb13u5_amd64.deb
SHA256: ${'b'.repeat(64)}

Package: broken
Version: 1
`;

describe('Debian packages', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-debian-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps the wanted, complete stanzas of a Packages index', () => {
    const got = parsePackages(INDEX, new Set(['python3.13', 'broken']));
    expect(got).to.deep.equal([
      {
        name: 'python3.13',
        version: '3.13.5-2+deb13u5',
        filename: 'pool/main/p/python3.13/python3.13_3.13.5-2+deb13u5_amd64.deb',
        sha256: 'a'.repeat(64),
      },
    ]);
  });

  it("reads a root's mirror and suite from one-line and deb822 apt sources", async () => {
    await mkdir(join(dir, 'a/etc/apt'), { recursive: true });
    await writeFile(
      join(dir, 'a/etc/apt/sources.list'),
      '# x\ndeb http://deb.debian.org/debian/ trixie main\n',
    );
    expect(await debianSource(join(dir, 'a'))).to.deep.equal({
      mirror: 'http://deb.debian.org/debian',
      suite: 'trixie',
    });
    await mkdir(join(dir, 'b/etc/apt/sources.list.d'), { recursive: true });
    await writeFile(
      join(dir, 'b/etc/apt/sources.list.d/debian.sources'),
      'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n',
    );
    expect(await debianSource(join(dir, 'b'))).to.deep.equal({
      mirror: 'http://mirror.example/debian',
      suite: 'bookworm',
    });
    expect(await debianSource(join(dir, 'none'))).to.equal(undefined);
  });

  it('looks in the releases before a suite, newest first, on the same mirror', () => {
    const mirror = 'http://deb.debian.org/debian';
    const suites = (suite: string) => debianSuitesFrom({ mirror, suite }).map((s) => s.suite);
    expect(suites('trixie')).to.deep.equal(['trixie', 'bookworm']);
    expect(suites('stable')).to.deep.equal(['stable', 'bookworm']);
    expect(suites('testing')).to.deep.equal(['testing', 'trixie', 'bookworm']);
    expect(suites('sid')).to.deep.equal(['sid', 'forky', 'trixie', 'bookworm']);
    // The oldest the mirror carries, and a suite whose place is unknown, look nowhere else.
    expect(suites('bookworm')).to.deep.equal(['bookworm']);
    expect(suites('noble')).to.deep.equal(['noble']);
    expect(debianSuitesFrom({ mirror, suite: 'trixie' })[1]).to.deep.equal({ mirror, suite: 'bookworm' });
  });

  it('compares glibc versions and reads the running one', () => {
    expect(glibcAtLeast('2.41', '2.38')).to.equal(true);
    expect(glibcAtLeast('2.36', '2.38')).to.equal(false);
    expect(glibcAtLeast('3.0', '2.38')).to.equal(true);
    expect(glibcAtLeast(undefined, '2.38')).to.equal(false);
    expect(runningGlibc()).to.match(/^\d+\.\d+$/);
  });

  it('unpacks a .deb into a prefix with its absolute symlinks made relative to it', async () => {
    // A real package, built with dpkg-deb, already in the cache (so nothing is downloaded).
    const pkg = join(dir, 'pkg');
    await mkdir(join(pkg, 'DEBIAN'), { recursive: true });
    await mkdir(join(pkg, 'usr/lib/jvm/x/conf'), { recursive: true });
    await mkdir(join(pkg, 'etc/x'), { recursive: true });
    await writeFile(join(pkg, 'etc/x/net.properties'), 'k=v\n');
    await symlink('/etc/x/net.properties', join(pkg, 'usr/lib/jvm/x/conf/net.properties'));
    await writeFile(
      join(pkg, 'DEBIAN/control'),
      'Package: slipway-test\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.com>\nDescription: t\n',
    );
    const cache = join(dir, 'cache');
    await mkdir(join(cache, 'debs'), { recursive: true });
    await execFileP('dpkg-deb', [
      '--root-owner-group',
      '-b',
      pkg,
      join(cache, 'debs', 'slipway-test_1.0.deb'),
    ]);
    const prefix = join(dir, 'prefix');
    await unpackDebianPackages(
      { mirror: 'http://mirror.invalid/debian', suite: 'trixie' },
      [{ name: 'slipway-test', version: '1.0', filename: 'pool/x.deb', sha256: 'c'.repeat(64) }],
      prefix,
      cache,
      'Test',
    );
    const link = join(prefix, 'usr/lib/jvm/x/conf/net.properties');
    expect(await readlink(link)).to.equal('../../../../../etc/x/net.properties');
    expect(await readFile(link, 'utf8')).to.equal('k=v\n');
  });
});
