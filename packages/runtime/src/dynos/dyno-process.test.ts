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

/** An attached dyno (stdin open, streams left to the caller), under a pseudo-terminal with `tty`. */
function attached(command: string, tty?: boolean): Promise<DynoProcess> {
  return DynoProcess.spawn({
    command,
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() },
    stdin: true,
    lines: false,
    ...(tty ? { tty: { columns: 80, rows: 24 } } : {}),
  });
}

describe('DynoProcess output', function () {
  this.timeout(20_000);

  // Node resumes, and so drops, a child's unread stdio when it exits: an attached one-off that
  // finishes before its client connects must still hand over everything it printed.
  it('keeps the output of an attached dyno that exits before anyone reads it', async () => {
    const proc = await attached('echo to-stdout; echo to-stderr >&2; exit 5');
    expect((await proc.exited).status).to.equal(5);
    await sleep(50);
    const [out, err] = await Promise.all([readAll(proc.stdout), readAll(proc.stderr)]);
    expect(out).to.equal('to-stdout\n');
    expect(err).to.equal('to-stderr\n');
  });

  it('does the same under a pseudo-terminal, where the dyno starts without waiting', async () => {
    const proc = await attached('tty; exit 6', true);
    expect((await proc.exited).status).to.equal(6);
    await sleep(50);
    proc.stdin?.end();
    expect(await readAll(proc.stdout)).to.match(/^\/dev\/pts\/\d+\r\n$/);
  });
});

describe('DynoProcess terminal', function () {
  this.timeout(20_000);

  it('resizes the pseudo-terminal of a tty dyno, which sees SIGWINCH and the new size', async () => {
    // The trap runs between sleeps; `stty size` then reads the terminal's new size.
    const proc = await attached(
      "trap 'stty size; exit 0' WINCH; stty size; echo ready; while :; do sleep 0.05; done",
      true,
    );
    let out = '';
    proc.stdout.on('data', (c) => {
      out += c;
    });
    for (let i = 0; i < 200 && !out.includes('ready'); i++) await sleep(25);
    expect(out).to.match(/^24 80\r\n/);
    const ended = new Promise((r) => proc.stdout.once('end', r));
    await Promise.all([proc.resize(100, 30), proc.resize(120, 40), proc.resize(132, 43)]);
    expect((await proc.exited).status).to.equal(0);
    proc.stdin?.end();
    await ended;
    // The trap may see the first size or only the last, never a stale one after the last.
    expect(out).to.match(/ready\r\n(30 100\r\n)?43 132\r\n$/);
  });

  it('ignores a resize of a dyno without a terminal, or one already gone', async () => {
    const plain = await attached('exit 0');
    await plain.resize(100, 30);
    expect((await plain.exited).status).to.equal(0);
    const tty = await attached('exit 0', true);
    expect((await tty.exited).status).to.equal(0);
    tty.stdin?.end();
    await tty.resize(100, 30);
  });
});

describe('DynoProcess log budget', function () {
  this.timeout(30_000);

  // Issue 11 (4): a flood is dropped where it is read, before a line costs a string or an event.
  it('drops lines over its budget and reports them as L10', async () => {
    const proc = await DynoProcess.spawn({
      command: 'seq 1 50000',
      cwd: tmpdir(),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      logBudget: { perSecond: 1, burst: 200 },
    });
    const lines: string[] = [];
    const dropped: string[] = [];
    proc.on('line', (l: string) => lines.push(l));
    proc.on('dropped', (m: string) => dropped.push(m));
    await proc.exited;
    await sleep(200);
    expect(lines.length).to.be.within(90, 110); // 200 tokens, 2 per short line
    expect(lines[0]).to.equal('1');
    const count = dropped.reduce((n, m) => n + Number(/: (\d+) messages dropped/.exec(m)?.[1] ?? 0), 0);
    expect(dropped[0]).to.match(/^Error L10 \(output buffer overflow\): \d+ messages dropped since /);
    expect(lines.length + count).to.equal(50_000);
  });
});
