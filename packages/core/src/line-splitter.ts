/**
 * Bytes to log lines with a fixed memory ceiling. A line longer than `max` bytes is split into
 * pieces of at most `max` bytes (logplex splits at 10,000 bytes; it does not truncate), never
 * cutting a UTF-8 character in two, and nothing more than one piece is ever held: an app that
 * writes a gigabyte without a newline costs the platform 10 kB, not a gigabyte (readline, which
 * this replaces, kept the whole line and threw `RangeError: Invalid string length` at 512 MB).
 * `\n` ends a line; a `\r` right before it is dropped (CRLF output reads as one line). Whatever
 * reads a process the platform does not trust line by line (a dyno, a build, an add-on server
 * whose log repeats what an app sent it) reads it with this.
 */
import type { Readable } from 'node:stream';

/** Logplex splits longer messages into several lines of at most this many bytes. */
export const MAX_LINE_BYTES = 10_000;

/** Splits a byte stream into lines of at most `max` bytes, holding at most `max` bytes. */
export class LineSplitter {
  private readonly pending: Buffer;
  private size = 0;

  /**
   * `admit(bytes)`, when given, is asked before each line (or piece) becomes a string: a line it
   * refuses costs a byte copy and nothing else, so a flood can be dropped cheaply here.
   */
  constructor(
    private readonly onLine: (line: string) => void,
    readonly max = MAX_LINE_BYTES,
    private readonly admit?: (bytes: number) => boolean,
  ) {
    // One fixed buffer per stream: pieces are copied in, so no chunk is kept alive by a slice.
    this.pending = Buffer.allocUnsafe(max);
  }

  /** Feed a chunk; complete lines (and full pieces of long ones) are emitted at once. */
  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      this.append(chunk, start, end);
      if (nl === -1) return;
      this.emitLine();
      start = nl + 1;
    }
  }

  /** The stream ended: a last line without a newline is still a line. */
  end(): void {
    if (this.size > 0) this.emitLine();
  }

  private append(chunk: Buffer, start: number, end: number): void {
    while (start < end) {
      const take = Math.min(this.max - this.size, end - start);
      chunk.copy(this.pending, this.size, start, start + take);
      this.size += take;
      start += take;
      if (this.size === this.max) this.emitPiece();
    }
  }

  /** A full piece of a long line: cut before a partial UTF-8 character, keep the rest. */
  private emitPiece(): void {
    let cut = this.size;
    // Step back over continuation bytes (10xxxxxx) to the lead byte, and cut before it unless
    // its whole character fits. At most 3 steps: a UTF-8 character is at most 4 bytes.
    let i = cut - 1;
    while (i > 0 && cut - i < 4 && (this.pending[i]! & 0xc0) === 0x80) i--;
    const lead = this.pending[i]!;
    const len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (i + len > cut) cut = i;
    if (cut === 0) cut = this.size; // not UTF-8 at all: cut anywhere
    if (!this.admit || this.admit(cut)) this.onLine(this.pending.toString('utf8', 0, cut));
    this.pending.copy(this.pending, 0, cut, this.size);
    this.size -= cut;
  }

  private emitLine(): void {
    const n = this.size > 0 && this.pending[this.size - 1] === 13 ? this.size - 1 : this.size;
    if (!this.admit || this.admit(n)) this.onLine(this.pending.toString('utf8', 0, n));
    this.size = 0;
  }
}

/** Emit `stream`'s lines (capped at `max` bytes, passing `admit`) to `onLine`; the last one also at its end. */
export function splitLines(
  stream: Readable,
  onLine: (line: string) => void,
  max = MAX_LINE_BYTES,
  admit?: (bytes: number) => boolean,
): void {
  const splitter = new LineSplitter(onLine, max, admit);
  stream.on('data', (c: Buffer | string) => splitter.push(typeof c === 'string' ? Buffer.from(c) : c));
  stream.once('end', () => splitter.end());
}
