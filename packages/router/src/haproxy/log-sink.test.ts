import { execFile } from 'node:child_process';
import net from 'node:net';
import type { LogLine } from '@slipway/core';
import { expect } from 'chai';
import { formatRequestLine } from '../log-line.js';
import { codeFromTermination, parseLogMessage, startLogSink } from './log-sink.js';

const line = (over: Record<number, unknown> = {}): string => {
  const f: unknown[] = [
    '-',
    'GET',
    '/x?y=1',
    'app.example.test',
    '0f7c1a52-3f3a-4bb0-9a4e-6a1f3b2c9d10',
    '1.2.3.4, 127.0.0.1',
    'web.1_7',
    0,
    12,
    15,
    200,
    99,
    'http',
    '----',
    'slot3',
    'H21',
  ];
  for (const [i, v] of Object.entries(over)) f[Number(i)] = v;
  return JSON.stringify(f);
};

describe('router: HAProxy log sink (unit)', () => {
  it('turns a log message into the Node router line, the dyno name without its server suffix', () => {
    const r = parseLogMessage(line())!;
    expect(r.slot).to.equal('slot3');
    expect(formatRequestLine(r)).to.equal(
      'at=info method=GET path="/x?y=1" host=app.example.test request_id=0f7c1a52-3f3a-4bb0-9a4e-6a1f3b2c9d10 ' +
        'fwd="1.2.3.4, 127.0.0.1" dyno=web.1 connect=0ms service=15ms status=200 bytes=99 protocol=http',
    );
  });

  it('derives H-codes from the termination state, and the client status Heroku gives', () => {
    expect(codeFromTermination('sH--', 504, 'web.1_1')).to.equal('H12');
    expect(codeFromTermination('sQ--', 503, '<NOSRV>')).to.equal('H12');
    expect(codeFromTermination('sD--', 200, 'web.1_1')).to.equal('H15');
    expect(codeFromTermination('SH--', 502, 'web.1_1')).to.equal('H13');
    expect(codeFromTermination('SD--', 200, 'web.1_1')).to.equal('H18');
    expect(codeFromTermination('sC--', 503, 'web.1_1')).to.equal('H19');
    expect(codeFromTermination('SC--', 503, '<NOSRV>', 'H21')).to.equal('H21');
    expect(codeFromTermination('SC--', 503, '<NOSRV>', 'H10')).to.equal('H10');
    expect(codeFromTermination('CD--', -1, 'web.1_1')).to.equal('H27');
    expect(codeFromTermination('CD--', 200, 'web.1_1')).to.equal('H27');
    expect(codeFromTermination('CH--', -1, 'web.1_1')).to.equal('H27');
    expect(codeFromTermination('CR--', 400, '<NOSRV>')).to.equal(undefined);
    expect(formatRequestLine(parseLogMessage(line({ 10: 200, 13: 'CD--' }))!)).to.match(
      /^at=error code=H27 .* status=200 /,
    );
    expect(formatRequestLine(parseLogMessage(line({ 10: -1, 13: 'CH--' }))!)).to.match(
      /^at=error code=H27 .* status=499 /,
    );
    // HAProxy 3.x logs its own 400 for a client gone before the response (no response time).
    expect(formatRequestLine(parseLogMessage(line({ 8: -1, 10: 400, 13: 'CD--' }))!)).to.match(
      /^at=error code=H27 .* status=499 /,
    );
    expect(codeFromTermination('PR--', 400, '<NOSRV>')).to.equal('H25');
    expect(codeFromTermination('----', 200, 'web.1_1')).to.equal(undefined);
    // A tunnel ended by its idle window, from either side, after a good handshake.
    expect(codeFromTermination('sD--', 101, 'web.1_1')).to.equal(undefined);
    expect(codeFromTermination('cD--', 101, 'web.1_1')).to.equal(undefined);
    expect(codeFromTermination('SD--', 101, 'web.1_1')).to.equal(undefined);
    const h12 = parseLogMessage(line({ 10: 504, 13: 'sH--' }))!;
    expect(formatRequestLine(h12)).to.match(/^at=error code=H12 desc="Request timeout" .* status=503 /);
    const answered = parseLogMessage(line({ 0: 'H80', 6: '<NOSRV>', 10: 503, 13: 'PR--' }))!;
    expect(formatRequestLine(answered)).to.match(/^at=error code=H80 desc="Maintenance mode" .*dyno= /);
  });

  it('keeps client-controlled fields from forging fields or lines, and refuses foreign lines', () => {
    const evil = parseLogMessage(line({ 2: '/a" status=200 x="\n at=info', 1: 'GET POST' }))!;
    const text = formatRequestLine(evil);
    expect(text).to.not.contain('\n');
    expect(text).to.contain('path="/a%22 status=200 x=%220A at=info"'.replace('%220A', '%22%0A'));
    expect(text).to.match(/^at=info method=GET_POST /);
    expect(parseLogMessage('Server slot0/web.1_1 is UP/READY (leaving forced maintenance).')).to.equal(
      undefined,
    );
    expect(parseLogMessage('["too","short"]')).to.equal(undefined);
  });

  it('takes lines only from its own uid: another user on the loopback (a dyno) cannot write router lines', async function () {
    if (process.getuid?.() !== 0) {
      if (process.env.CI === 'true') throw new Error('this test needs root (to connect as another uid)');
      console.warn('      !!! skipped: needs root to connect as another uid');
      return this.skip();
    }
    this.timeout(20_000);
    const lines: LogLine[] = [];
    const sink = await startLogSink({ write: (l) => lines.push(l) }, (slot) =>
      slot === 'slot3' ? 'victim' : undefined,
    );
    try {
      // As nobody, through bash's /dev/tcp: the connection is cut before its line is read.
      await new Promise<void>((resolve, reject) =>
        execFile(
          'setpriv',
          [
            '--reuid=65534',
            '--regid=65534',
            '--clear-groups',
            'bash',
            '-c',
            `printf '%s\\n' "$0" > /dev/tcp/127.0.0.1/${sink.port}; sleep 1`,
            line(),
          ],
          (e) => (e ? reject(e) : resolve()),
        ),
      );
      expect(lines).to.have.length(0);
      // The same line from this process's uid (HAProxy's) is a router line of the app.
      const own = net.connect(sink.port, '127.0.0.1');
      own.end(`${line()}\n`);
      const t = Date.now();
      while (!lines.length && Date.now() - t < 5000) await new Promise((r) => setTimeout(r, 50));
      expect(lines.map((l) => [l.app, l.dyno])).to.deep.equal([['victim', 'router']]);
    } finally {
      await sink.close();
    }
  });
});
