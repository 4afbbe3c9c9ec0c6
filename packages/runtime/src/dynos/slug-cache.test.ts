import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualClock } from '@slipway/core';
import { expect } from 'chai';
import { FsSlugStore } from '../state/fs-slug-store.js';
import { SlugCache } from './slug-cache.js';

/** Write a gzipped tar with exactly these members (Python's tarfile writes any name we ask for). */
function craftSlug(
  file: string,
  members: { name: string; type?: 'file' | 'symlink' | 'hardlink'; link?: string }[],
) {
  const script = `
import io, json, sys, tarfile
with tarfile.open(sys.argv[1], 'w:gz') as t:
    for m in json.loads(sys.argv[2]):
        i = tarfile.TarInfo(m['name'])
        i.mode = 0o755 if m['name'].startswith('bin/') else 0o644
        kind = m.get('type', 'file')
        if kind == 'file':
            data = ('content of ' + m['name']).encode()
            i.size = len(data)
            t.addfile(i, io.BytesIO(data))
        else:
            i.type = tarfile.SYMTYPE if kind == 'symlink' else tarfile.LNKTYPE
            i.linkname = m['link']
            t.addfile(i)
`;
  execFileSync('python3', ['-c', script, file, JSON.stringify(members)]);
}

describe('SlugCache unpacking (GNU tar)', function () {
  this.timeout(30_000);
  let dir: string;
  let store: FsSlugStore;
  let cache: SlugCache;
  let outside: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-slug-cache-'));
    outside = join(dir, 'outside');
    await mkdir(outside);
    await writeFile(join(dir, 'target.txt'), 'not for dynos');
    store = new FsSlugStore(join(dir, 'store'));
    cache = new SlugCache(join(dir, 'cache'), store);
  });
  after(async () => {
    cache?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const slugOf = async (name: string, members: Parameters<typeof craftSlug>[1]) => {
    const file = join(dir, `${name}.tgz`);
    craftSlug(file, members);
    return store.put(file);
  };

  it('unpacks files, modes and in-slug links, world-readable and not writable by others', async () => {
    const ref = await slugOf('good', [
      { name: './Procfile' },
      { name: 'bin/run' },
      { name: 'lib/a.txt' },
      { name: 'lib/alias.txt', type: 'symlink', link: 'a.txt' },
    ]);
    const at = await cache.ensure(ref);
    expect(readFileSync(join(at, 'Procfile'), 'utf8')).to.equal('content of ./Procfile');
    expect(readFileSync(join(at, 'lib/alias.txt'), 'utf8')).to.equal('content of lib/a.txt');
    expect(statSync(join(at, 'bin/run')).mode & 0o777).to.equal(0o755);
    expect(statSync(join(at, 'lib/a.txt')).mode & 0o777).to.equal(0o644);
    expect(await cache.ensure(ref)).to.equal(at);
  });

  it("deletes an unused copy once it has been idle for idleMs on the platform's clock, not before", async () => {
    const clock = manualClock();
    const timed = new SlugCache(join(dir, 'timed'), store, undefined, clock);
    const ref = await slugOf('idle', [{ name: './Procfile' }]);
    const at = await timed.ensure(ref);
    timed.acquire(ref);
    timed.acquire(ref);
    timed.release(ref, 3_600_000);
    // One dyno still uses it: no timer.
    expect(clock.pending).to.equal(0);
    timed.release(ref, 3_600_000);
    clock.advance(3_600_000 - 1);
    expect(existsSync(at)).to.equal(true);
    // Taken again before the hour is out: the timer is cancelled.
    timed.acquire(ref);
    expect(clock.pending).to.equal(0);
    timed.release(ref, 3_600_000);
    clock.advance(3_600_000);
    const deadline = Date.now() + 5000;
    while (existsSync(at) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(at)).to.equal(false);
    timed.close();
  });

  type Members = Parameters<typeof craftSlug>[1];
  const refused: [string, (d: string) => Members][] = [
    ['a member with ..', () => [{ name: './Procfile' }, { name: '../escaped.txt' }]],
    [
      'a file written through a symlink that points outside',
      (d) => [{ name: 'out', type: 'symlink', link: join(d, 'outside') }, { name: 'out/escaped.txt' }],
    ],
    ['a hard link to a file outside', (d) => [{ name: 'hl', type: 'hardlink', link: join(d, 'target.txt') }]],
  ];
  for (const [what, members] of refused) {
    it(`refuses a slug with ${what}, writing nothing outside and leaving no partial copy`, async () => {
      const ref = await slugOf(what.replace(/\W+/g, '-'), members(dir));
      let error: unknown;
      await cache.ensure(ref).catch((e) => {
        error = e;
      });
      expect((error as { code?: string })?.code).to.equal('SLIPWAY_ERR_DYNO_SLUG');
      expect(String((error as Error).message)).to.match(/cannot unpack slug sha256:[0-9a-f]+: tar: /);
      expect(existsSync(join(dir, 'escaped.txt'))).to.equal(false);
      expect(existsSync(join(outside, 'escaped.txt'))).to.equal(false);
      expect(readFileSync(join(dir, 'target.txt'), 'utf8')).to.equal('not for dynos');
      expect(existsSync(join(dir, 'cache', ref.checksum.slice('sha256:'.length)))).to.equal(false);
    });
  }

  it('keeps an absolute member inside the slug, as tar strips the leading /', async () => {
    const ref = await slugOf('absolute', [{ name: join(dir, 'abs.txt') }]);
    const at = await cache.ensure(ref);
    expect(existsSync(join(dir, 'abs.txt'))).to.equal(false);
    expect(readFileSync(join(at, dir.slice(1), 'abs.txt'), 'utf8')).to.match(/^content of /);
  });
});
