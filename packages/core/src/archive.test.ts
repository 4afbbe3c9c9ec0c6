import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { extractArchive } from './archive.js';
import { SlipwayError } from './errors.js';

/** Make a tar.gz with arbitrary (hostile) entries using Python's tarfile, which allows them. */
function makeTar(
  file: string,
  entries: { name: string; type?: 'file' | 'symlink' | 'hardlink'; target?: string }[],
) {
  const script = `
import io, json, sys, tarfile
entries = json.loads(sys.argv[2])
with tarfile.open(sys.argv[1], 'w:gz') as t:
    for e in entries:
        info = tarfile.TarInfo(e['name'])
        kind = e.get('type', 'file')
        if kind == 'symlink':
            info.type = tarfile.SYMTYPE; info.linkname = e['target']; t.addfile(info)
        elif kind == 'hardlink':
            info.type = tarfile.LNKTYPE; info.linkname = e['target']; t.addfile(info)
        else:
            data = b'x'; info.size = 1; t.addfile(info, io.BytesIO(data))
`;
  execFileSync('python3', ['-c', script, file, JSON.stringify(entries)]);
}

describe('extractArchive', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-archive-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  const cases: [string, Parameters<typeof makeTar>[1], RegExp][] = [
    ['a ../ path', [{ name: 'ok.txt' }, { name: '../escape.txt' }], /"\.\." is not allowed/],
    ['an absolute path', [{ name: '/tmp/slipway-abs-escape.txt' }], /absolute paths/],
    ['a symlink out of the root', [{ name: 'link', type: 'symlink', target: '../../etc' }], /links outside/],
    ['an absolute symlink', [{ name: 'link', type: 'symlink', target: '/etc/passwd' }], /absolute path/],
    [
      // Each link stays inside on its own; followed one after the other they lead out.
      'a chain of symlinks that leads out',
      [
        { name: 'l1', type: 'symlink', target: '.' },
        { name: 'l1/l2', type: 'symlink', target: '..' },
        { name: 'l1/l2/escape.txt' },
      ],
      /goes through the symbolic link l1 of the same archive/,
    ],
    [
      'a hardlink out of the root',
      [{ name: 'hl', type: 'hardlink', target: '../outside' }],
      /not allowed|links outside/,
    ],
  ];
  for (const [what, entries, why] of cases) {
    it(`refuses ${what} and writes nothing`, async () => {
      const file = path.join(tmp, 'bad.tgz');
      makeTar(file, entries);
      const dest = path.join(tmp, 'out');
      try {
        await extractArchive(file, dest);
        expect.fail('extraction should be refused');
      } catch (e) {
        expect(e).to.be.instanceOf(SlipwayError);
        expect((e as SlipwayError).code).to.equal('SLIPWAY_ERR_ARCHIVE_UNSAFE');
        expect((e as Error).message).to.match(why);
      }
      expect(readdirSync(dest)).to.deep.equal([]);
      expect(existsSync(path.join(tmp, 'escape.txt'))).to.equal(false);
    });
  }

  it('extracts a normal archive with an inner symlink', async () => {
    const file = path.join(tmp, 'ok.tgz');
    makeTar(file, [{ name: 'dir/a.txt' }, { name: 'dir/link', type: 'symlink', target: 'a.txt' }]);
    await extractArchive(file, path.join(tmp, 'out'));
    expect(readdirSync(path.join(tmp, 'out', 'dir')).sort()).to.deep.equal(['a.txt', 'link']);
  });

  it('refuses garbage and oversized archives', async () => {
    const junk = path.join(tmp, 'junk.tgz');
    execFileSync('sh', ['-c', 'head -c 2000 /dev/urandom > "$1"', 'sh', junk]);
    try {
      await extractArchive(junk, path.join(tmp, 'o1'));
      expect.fail('should refuse');
    } catch (e) {
      expect((e as SlipwayError).code).to.equal('SLIPWAY_ERR_ARCHIVE_INVALID');
    }
    const big = path.join(tmp, 'big.tgz');
    makeTar(big, [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    try {
      await extractArchive(big, path.join(tmp, 'o2'), { maxBytes: 2 });
      expect.fail('should refuse');
    } catch (e) {
      expect((e as SlipwayError).code).to.equal('SLIPWAY_ERR_ARCHIVE_TOO_LARGE');
    }
  });

  it('refuses an entry name of a hundred kilobytes at once, in a short message', async function () {
    // Checked directory by directory, one name of 60 000 levels held the event loop for ~30 s.
    this.timeout(10_000);
    const file = path.join(tmp, 'deep.tgz');
    makeTar(file, [{ name: `${'a/'.repeat(60_000)}f` }]);
    const err = await extractArchive(file, path.join(tmp, 'out')).catch((e) => e);
    expect((err as SlipwayError).code).to.equal('SLIPWAY_ERR_ARCHIVE_UNSAFE');
    expect((err as Error).message).to.match(/longer than 4096 bytes/);
    expect((err as Error).message.length).to.be.below(1000);
  });

  // Issue 11 (10): a 1.1 MB upload that unpacked to 1.1 GB took the platform to 1.26 GB RSS.
  it('checks and extracts a gzip bomb with bounded memory, and refuses it over the limit', async function () {
    this.timeout(120_000);
    const src = path.join(tmp, 'src');
    execFileSync('mkdir', [src]);
    execFileSync('truncate', ['-s', '300M', path.join(src, 'zeros')]);
    const bomb = path.join(tmp, 'bomb.tgz');
    execFileSync('tar', ['-czf', bomb, '-C', src, '.']);
    rmSync(src, { recursive: true });
    let peak = 0;
    const sample = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const before = process.memoryUsage().rss;
    try {
      const err = await extractArchive(bomb, path.join(tmp, 'o1'), { maxBytes: 100 << 20 }).catch((e) => e);
      expect((err as SlipwayError).code).to.equal('SLIPWAY_ERR_ARCHIVE_TOO_LARGE');
      expect(readdirSync(path.join(tmp, 'o1'))).to.deep.equal([]);
      await extractArchive(bomb, path.join(tmp, 'o2'), { maxBytes: 400 << 20 });
      expect(statSync(path.join(tmp, 'o2', 'zeros')).size).to.equal(300 << 20);
    } finally {
      clearInterval(sample);
    }
    // Before: the whole inflated archive in memory at once (300 MB and more).
    expect(peak - before, `RSS grew by ${((peak - before) / 1048576).toFixed(0)} MB`).to.be.below(100 << 20);
  });
});
