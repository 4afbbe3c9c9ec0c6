import { expect } from 'chai';
import { installDigest } from './dependencies.js';
import { choosePackageManager, installArgs, isYarnBerry, pruneArgs } from './package-manager.js';

describe('nodejs buildpack: choosing the package manager', () => {
  it('picks the package manager from the lockfile, npm without one', () => {
    const pick = (files: string[], field?: string) => {
      const r = choosePackageManager(files, field);
      return r.ok ? [r.choice.name, r.choice.lockfile ?? null, r.choice.pinned ?? null] : r.reason;
    };
    expect(pick(['package-lock.json'])).to.deep.equal(['npm', 'package-lock.json', null]);
    expect(pick(['npm-shrinkwrap.json'])).to.deep.equal(['npm', 'npm-shrinkwrap.json', null]);
    expect(pick(['yarn.lock'])).to.deep.equal(['yarn', 'yarn.lock', null]);
    expect(pick(['pnpm-lock.yaml'])).to.deep.equal(['pnpm', 'pnpm-lock.yaml', null]);
    expect(pick([])).to.deep.equal(['npm', null, null]);
    expect(pick(['package-lock.json', 'npm-shrinkwrap.json'])).to.deep.equal([
      'npm',
      'package-lock.json',
      null,
    ]);
  });

  it('lets "packageManager" win and rejects two kinds of lockfile or an unknown manager', () => {
    const r = choosePackageManager(['pnpm-lock.yaml'], 'pnpm@9.15.9+sha512.abc');
    expect(r.ok && r.choice).to.deep.equal({ name: 'pnpm', lockfile: 'pnpm-lock.yaml', pinned: '9.15.9' });
    const two = choosePackageManager(['package-lock.json', 'yarn.lock']);
    expect(two.ok).to.equal(false);
    expect(!two.ok && two.hint).to.include('delete the others');
    const bun = choosePackageManager([], 'bun@1.1.0');
    expect(!bun.ok && bun.reason).to.include('bun@1.1.0');
  });

  it('installs dev dependencies too and prunes them afterwards', () => {
    expect(installArgs('npm', '11.0.0', true)).to.include.members(['ci', '--include=dev']);
    expect(installArgs('npm', '11.0.0', false)[0]).to.equal('install');
    expect(installArgs('pnpm', '9.15.9', true)).to.include('--frozen-lockfile');
    expect(installArgs('yarn', '1.22.22', true)).to.include.members([
      '--frozen-lockfile',
      '--production=false',
    ]);
    expect(installArgs('yarn', '4.5.0', true)).to.include('--immutable');
    expect(pruneArgs('npm', '11.0.0', true)).to.include('--omit=dev');
    expect(pruneArgs('pnpm', '9.15.9', true)).to.deep.equal(['prune', '--prod']);
    expect(pruneArgs('yarn', '1.22.22', true)).to.include('--production=true');
    expect(pruneArgs('yarn', '3.6.0', true)).to.equal(undefined);
    expect(isYarnBerry('1.22.22')).to.equal(false);
    expect(isYarnBerry('4.5.0')).to.equal(true);
  });
});

describe('nodejs buildpack: install digest', () => {
  const base = {
    node: 'v20.11.1',
    runner: { name: 'npm' as const, version: '10.2.4' },
    lockfileText: '{"lockfileVersion":3}',
    pkg: { dependencies: { express: '^5' } },
    configFiles: {},
  };
  it('is stable for the same inputs and changes with Node.js, the package manager, the lockfile or .npmrc', () => {
    const d = installDigest(base);
    expect(installDigest({ ...base })).to.equal(d);
    expect(installDigest({ ...base, node: 'v20.12.0' })).not.to.equal(d);
    expect(installDigest({ ...base, runner: { name: 'npm', version: '11.0.0' } })).not.to.equal(d);
    expect(installDigest({ ...base, lockfileText: '{"lockfileVersion":3} ' })).not.to.equal(d);
    expect(installDigest({ ...base, configFiles: { '.npmrc': 'abc' } })).not.to.equal(d);
    expect(installDigest({ ...base, pkg: { dependencies: { express: '^4' } } })).not.to.equal(d);
  });
});

describe('nodejs buildpack: npm version from PATH', () => {
  it('matches `npm --version` without starting npm', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { npmVersionOnPath } = await import('./toolchain.js');
    const { stdout } = await promisify(execFile)('npm', ['--version']);
    expect(await npmVersionOnPath(process.env.PATH ?? '')).to.equal(stdout.trim());
    expect(await npmVersionOnPath('/nonexistent-dir')).to.equal(undefined);
  });
});
