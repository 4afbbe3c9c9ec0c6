import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as tar from 'tar';
import { packSlug } from './slug.js';

describe('packSlug', () => {
  let tmp: string;
  let app: string;
  const deep = `${'a-directory-with-a-long-name/'.repeat(6)}file-at-the-bottom.txt`;
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-pack-'));
    app = path.join(tmp, 'app');
    mkdirSync(path.join(app, 'bin'), { recursive: true });
    writeFileSync(path.join(app, 'Procfile'), 'web: bin/run\n');
    writeFileSync(path.join(app, 'bin/run'), '#!/bin/sh\necho run\n');
    chmodSync(path.join(app, 'bin/run'), 0o755);
    symlinkSync('bin/run', path.join(app, 'start'));
    mkdirSync(path.join(app, path.dirname(deep)), { recursive: true });
    writeFileSync(path.join(app, deep), 'deep');
    // A socket a buildpack left behind is skipped, as it cannot be archived.
    execFileSync('python3', [
      '-c',
      'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])',
      path.join(app, 'build.sock'),
    ]);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('packs files, modes, symlinks and long paths that unpack the same with node-tar and GNU tar', async () => {
    const slug = await packSlug(app, path.join(tmp, 'slug.tgz'), { maxBytes: 1 << 30 });
    expect(slug.checksum).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(slug.size).to.equal(statSync(slug.path).size);
    for (const how of ['node-tar', 'gnu-tar']) {
      const out = path.join(tmp, how);
      mkdirSync(out);
      if (how === 'node-tar') await tar.x({ file: slug.path, cwd: out, strict: true });
      else execFileSync('tar', ['-xzf', slug.path, '-C', out]);
      expect(readFileSync(path.join(out, 'Procfile'), 'utf8')).to.equal('web: bin/run\n');
      expect(statSync(path.join(out, 'bin/run')).mode & 0o111).to.not.equal(0);
      expect(lstatSync(path.join(out, 'start')).isSymbolicLink()).to.equal(true);
      expect(readlinkSync(path.join(out, 'start'))).to.equal('bin/run');
      expect(readFileSync(path.join(out, deep), 'utf8')).to.equal('deep');
      expect(() => lstatSync(path.join(out, 'build.sock'))).to.throw();
    }
    // Owners are not carried: a slug unpacks the same for whoever runs it.
    const listing = execFileSync('tar', ['-tvzf', slug.path, '--numeric-owner'], { encoding: 'utf8' });
    for (const line of listing.trim().split('\n')) expect(line.split(/\s+/)[1]).to.equal('0/0');
  });

  it('is byte-for-byte the same for the same tree (names sorted), so identical builds share a slug', async () => {
    const one = await packSlug(app, path.join(tmp, 'one.tgz'), { maxBytes: 1 << 30 });
    const two = await packSlug(app, path.join(tmp, 'two.tgz'), { maxBytes: 1 << 30 });
    expect(one.checksum).to.equal(two.checksum);
  });

  it('stops at the size limit with a coded error and leaves no file', async () => {
    const err = await packSlug(app, path.join(tmp, 'big.tgz'), { maxBytes: 100 }).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_SLUG_TOO_LARGE');
    expect(() => statSync(path.join(tmp, 'big.tgz'))).to.throw();
  });
});
