/**
 * Taking a built slug from the app's work dir, over real files: a slug is copied as it is (and
 * hashed on the way); a
 * symlink to another file, a fifo and a sparse file over the limit are refused with no copy
 * left (the fifo without hanging).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isSlipwayError } from '@slipway/core';
import { expect } from 'chai';
import { takeBuiltSlug } from './built-slug.js';

describe('takeBuiltSlug (a slug in a dir the app owns)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-built-slug-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const absent = async (f: string) => expect(await readFile(f).catch(() => undefined)).to.equal(undefined);

  it('copies a slug as it is, with the checksum of what it wrote', async () => {
    await writeFile(join(dir, 'ok.tgz'), 'slug bytes');
    const checksum = await takeBuiltSlug(join(dir, 'ok.tgz'), join(dir, 'ok-copy.tgz'));
    expect(await readFile(join(dir, 'ok-copy.tgz'), 'utf8')).to.equal('slug bytes');
    expect(checksum).to.equal(`sha256:${createHash('sha256').update('slug bytes').digest('hex')}`);
  });

  it('refuses a symlink (to a file the platform can read) and a fifo, leaving no copy', async () => {
    await writeFile(join(dir, 'secret'), 'platform only');
    await symlink(join(dir, 'secret'), join(dir, 'link.tgz'));
    const linked = await takeBuiltSlug(join(dir, 'link.tgz'), join(dir, 'link-copy.tgz')).catch((e) => e);
    expect(linked.code).to.equal('ELOOP');
    await absent(join(dir, 'link-copy.tgz'));
    await promisify(execFile)('mkfifo', [join(dir, 'fifo.tgz')]);
    const fifo = await takeBuiltSlug(join(dir, 'fifo.tgz'), join(dir, 'fifo-copy.tgz')).catch((e) => e);
    expect(isSlipwayError(fifo, 'SLIPWAY_ERR_RUNTIME_BUILD_WORKER'), String(fifo)).to.equal(true);
    expect(fifo.message).to.include('not a regular file');
    await absent(join(dir, 'fifo-copy.tgz'));
  });

  it('refuses a sparse file over the limit by its size, before copying a byte', async () => {
    await writeFile(join(dir, 'sparse.tgz'), '');
    await truncate(join(dir, 'sparse.tgz'), 2 ** 40); // 1 TiB that costs the app nothing
    const t0 = Date.now();
    const err = await takeBuiltSlug(join(dir, 'sparse.tgz'), join(dir, 'sparse-copy.tgz')).catch((e) => e);
    expect(isSlipwayError(err, 'SLIPWAY_ERR_SLUG_TOO_LARGE'), String(err)).to.equal(true);
    expect(err.message).to.match(/over the limit of 1(\.0)? GB/);
    expect(Date.now() - t0).to.be.below(5000);
    await absent(join(dir, 'sparse-copy.tgz'));
  });
});
