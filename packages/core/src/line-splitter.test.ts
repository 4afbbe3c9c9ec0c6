import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { LineSplitter, splitLines } from './line-splitter.js';

function split(chunks: (string | Buffer)[], max?: number): string[] {
  const out: string[] = [];
  const s = new LineSplitter((l) => out.push(l), max);
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c);
  s.end();
  return out;
}

describe('LineSplitter', () => {
  it('splits on newlines across chunks, drops the CR of CRLF, keeps empty lines and a last partial line', () => {
    expect(split(['a\nb', 'c\r\n\nd'])).to.deep.equal(['a', 'bc', '', 'd']);
  });

  it('splits a long line into pieces of at most max bytes, without cutting a UTF-8 character', () => {
    const line = `${'x'.repeat(7)}é€😀${'y'.repeat(20)}`; // 2-, 3- and 4-byte characters
    const out = split([`${line}\n`], 10);
    for (const piece of out) expect(Buffer.byteLength(piece)).to.be.at.most(10);
    expect(out.join('')).to.equal(line);
    expect(out.join('')).to.not.include('\uFFFD');
  });

  it('holds at most max bytes whatever it is fed: 50 MB without a newline come out as 10 kB pieces', () => {
    const chunk = Buffer.alloc(64 * 1024, 'z');
    let pieces = 0;
    let longest = 0;
    const s = new LineSplitter((l) => {
      pieces++;
      longest = Math.max(longest, l.length);
    });
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 800; i++) s.push(chunk); // 52 MB
    expect(process.memoryUsage().arrayBuffers - before).to.be.below(8 << 20);
    s.end();
    expect(longest).to.equal(10_000);
    expect(pieces).to.equal(Math.ceil((800 * chunk.length) / 10_000));
  });

  it('asks admit before making a string, and drops what it refuses', () => {
    const out: string[] = [];
    const sizes: number[] = [];
    const s = new LineSplitter(
      (l) => out.push(l),
      4,
      (n) => {
        sizes.push(n);
        return sizes.length % 2 === 1;
      },
    );
    s.push(Buffer.from('a\nbb\ncccccc\n'));
    expect(sizes).to.deep.equal([1, 2, 4, 2]);
    expect(out).to.deep.equal(['a', 'cccc']);
  });

  it('splitLines reads a stream and emits the last line at its end', async () => {
    const stream = new PassThrough();
    const out: string[] = [];
    splitLines(stream, (l) => out.push(l));
    stream.write('one\ntw');
    stream.end('o');
    await new Promise((r) => stream.once('end', r));
    expect(out).to.deep.equal(['one', 'two']);
  });
});
