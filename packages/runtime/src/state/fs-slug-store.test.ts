/** The filesystem slug store: content-addressed, moves the file in, streams it back. */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { expect } from 'chai';
import { FsSlugStore } from './fs-slug-store.js';

describe('FsSlugStore', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-slugs-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('stores by sha256, moves the file in, reads it back, and removes it', async () => {
    const store = new FsSlugStore(join(dir, 'store'));
    const src = join(dir, 'a.tgz');
    await writeFile(src, 'slug bytes');
    const ref = await store.put(src);
    const hex = createHash('sha256').update('slug bytes').digest('hex');
    expect(ref).to.deep.equal({ checksum: `sha256:${hex}`, size: 10 });
    expect(existsSync(src)).to.equal(false);
    expect(await text(store.open(ref))).to.equal('slug bytes');
    expect(await readFile(store.path(ref), 'utf8')).to.equal('slug bytes');
    await writeFile(src, 'slug bytes');
    expect(await store.put(src)).to.deep.equal(ref);
    await store.remove(ref);
    expect(existsSync(store.path(ref))).to.equal(false);
  });

  it("takes the caller's checksum of a file it alone wrote, and hashes the file when none is given", async () => {
    const store = new FsSlugStore(join(dir, 'store'));
    const src = join(dir, 'b.tgz');
    await writeFile(src, 'more slug bytes');
    const hex = createHash('sha256').update('more slug bytes').digest('hex');
    const ref = await store.put(src, `sha256:${hex}`);
    expect(ref).to.deep.equal({ checksum: `sha256:${hex}`, size: 15 });
    expect(await readFile(store.path(ref), 'utf8')).to.equal('more slug bytes');
    // Not a checksum: hashed as without one (never a path made of what was passed).
    await writeFile(src, 'more slug bytes');
    expect(await store.put(src, 'sha256:../../x')).to.deep.equal(ref);
  });

  it('refuses references that are not checksums (no path tricks)', () => {
    const store = new FsSlugStore(join(dir, 'store'));
    for (const checksum of ['sha256:../../etc/passwd', 'sha256:abc', '../x'])
      expect(() => store.path({ checksum, size: 1 })).to.throw(/not a slug checksum/);
  });
});
