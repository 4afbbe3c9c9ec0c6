import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { DynoProcess } from './dyno-process.js';

function readAll(s: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    s.on('data', (c) => {
      out += c;
    });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

describe('DynoProcess output', function () {
  this.timeout(20_000);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() };

  // Node resumes, and so drops, a child's unread stdio when it exits: an attached one-off that
  // finishes before its client connects must still hand over everything it printed.
  it('keeps the output of an attached dyno that exits before anyone reads it', async () => {
    const proc = await DynoProcess.spawn({
      command: 'echo to-stdout; echo to-stderr >&2; exit 5',
      cwd: tmpdir(),
      env,
      stdin: true,
      lines: false,
    });
    expect((await proc.exited).status).to.equal(5);
    await sleep(50);
    const [out, err] = await Promise.all([readAll(proc.stdout), readAll(proc.stderr)]);
    expect(out).to.equal('to-stdout\n');
    expect(err).to.equal('to-stderr\n');
  });

  it('does the same under a pseudo-terminal, where the dyno starts without waiting', async () => {
    const proc = await DynoProcess.spawn({
      command: 'tty; exit 6',
      cwd: tmpdir(),
      env,
      stdin: true,
      lines: false,
      tty: { columns: 80, rows: 24 },
    });
    expect((await proc.exited).status).to.equal(6);
    await sleep(50);
    proc.stdin?.end();
    expect(await readAll(proc.stdout)).to.match(/^\/dev\/pts\/\d+\r\n$/);
  });
});
