import { Kernel, type LogLine } from '@slipway/core';
import { expect } from 'chai';
import { formatLogLine, formatLogTime, LogHub, MAX_LINE_BYTES, splitMessage } from './log-hub.js';

const line = (message: string, over: Partial<LogLine> = {}): LogLine => ({
  app: 'shop',
  time: Date.UTC(2026, 10, 27, 20, 11, 22, 123),
  source: 'app',
  dyno: 'web.1',
  message,
  ...over,
});

describe('LogHub', () => {
  it('formats lines as logplex does, with microseconds and +00:00', () => {
    expect(formatLogLine(line('hello', { micros: 123456 }))).to.equal(
      '2026-11-27T20:11:22.123456+00:00 app[web.1]: hello',
    );
    expect(formatLogTime({ time: Date.UTC(2026, 0, 2, 3, 4, 5, 7) })).to.equal(
      '2026-01-02T03:04:05.007000+00:00',
    );
  });

  it('keeps the last `max` lines per app and returns the newest n, oldest first', () => {
    const hub = new LogHub({ max: 5 });
    for (let i = 1; i <= 8; i++) hub.write(line(`m${i}`));
    hub.write(line('other app', { app: 'blog' }));
    expect(hub.recent('shop', { n: 100 }).map((l) => l.message)).to.deep.equal([
      'm4',
      'm5',
      'm6',
      'm7',
      'm8',
    ]);
    expect(hub.recent('shop', { n: 2 }).map((l) => l.message)).to.deep.equal(['m7', 'm8']);
    expect(hub.recent('blog').map((l) => l.message)).to.deep.equal(['other app']);
    expect(hub.recent('nope')).to.deep.equal([]);
  });

  // Issue 11 (4): 1500 lines of 10,000 bytes are 15 MB per app; long lines count against a budget.
  it('keeps fewer lines of an app that writes long ones, within its character budget', () => {
    const hub = new LogHub({ max: 1500, maxChars: 50_000 });
    for (let i = 0; i < 100; i++) hub.write(line(`${i}`.padEnd(10_000, 'x')));
    const kept = hub.recent('shop', { n: 1500 });
    expect(kept.map((l) => l.message.length).reduce((a, b) => a + b, 0)).to.be.at.most(50_000);
    expect(kept).to.have.length(5);
    expect(kept.at(-1)?.message.startsWith('99')).to.equal(true);
    for (let i = 0; i < 1600; i++) hub.write(line(`short ${i}`));
    expect(hub.recent('shop', { n: 1500 })).to.have.length(1500);
    expect(hub.recent('shop', { n: 1 })[0]?.message).to.equal('short 1599');
  });

  it('defaults to 100 lines and 1500 kept, like heroku logs', () => {
    const hub = new LogHub();
    for (let i = 0; i < 1600; i++) hub.write(line(`m${i}`));
    expect(hub.recent('shop')).to.have.length(100);
    expect(hub.recent('shop', { n: 5000 })).to.have.length(1500);
    expect(hub.recent('shop', { n: 5000 })[0]!.message).to.equal('m100');
  });

  it('filters by source and by dyno (a type matches all its dynos)', () => {
    const hub = new LogHub();
    hub.write(line('a1', { dyno: 'web.1' }));
    hub.write(line('a2', { dyno: 'web.2' }));
    hub.write(line('w1', { dyno: 'worker.1' }));
    hub.write(line('r', { source: 'router', dyno: 'router' }));
    hub.write(line('p', { source: 'slipway', dyno: 'web.1' }));
    hub.write(line('x', { dyno: 'web.10' }));
    const msgs = (f: object) => hub.recent('shop', f).map((l) => l.message);
    expect(msgs({ source: 'app' })).to.deep.equal(['a1', 'a2', 'w1', 'x']);
    expect(msgs({ dyno: 'web' })).to.deep.equal(['a1', 'a2', 'p', 'x']);
    expect(msgs({ dyno: 'web.1' })).to.deep.equal(['a1', 'p']);
    expect(msgs({ source: 'app', dyno: 'web.1' })).to.deep.equal(['a1']);
    expect(msgs({ source: 'router' })).to.deep.equal(['r']);
    expect(msgs({ dyno: 'we' })).to.deep.equal([]);
  });

  it('splits messages at 10,000 bytes without cutting a UTF-8 character', () => {
    const long = 'é'.repeat(6000); // 12,000 bytes
    const parts = splitMessage(long);
    expect(parts.length).to.equal(2);
    expect(parts.join('')).to.equal(long);
    for (const p of parts) expect(Buffer.byteLength(p)).to.be.at.most(MAX_LINE_BYTES);
    const hub = new LogHub();
    hub.write(line('x'.repeat(25_000)));
    const got = hub.recent('shop');
    expect(got.map((l) => l.message.length)).to.deep.equal([10_000, 10_000, 5000]);
    expect(splitMessage('short')).to.deep.equal(['short']);
  });

  it('gives lines written in the same millisecond increasing microseconds', () => {
    const hub = new LogHub();
    hub.write(line('one'));
    hub.write(line('two'));
    const [a, b] = hub.recent('shop');
    expect(b!.micros!).to.be.greaterThan(a!.micros!);
    expect(formatLogTime(a!) < formatLogTime(b!)).to.equal(true);
  });

  it('delivers new lines to tails with their filter until unsubscribed; a throwing tail harms nobody', () => {
    const hub = new LogHub();
    const all: string[] = [];
    const routerOnly: string[] = [];
    const stopAll = hub.subscribe('shop', (l) => all.push(l.message));
    hub.subscribe('shop', (l) => routerOnly.push(l.message), { source: 'router' });
    hub.subscribe('shop', () => {
      throw new Error('closed socket');
    });
    hub.write(line('one'));
    hub.write(line('two', { source: 'router', dyno: 'router' }));
    hub.write(line('elsewhere', { app: 'blog' }));
    stopAll();
    hub.write(line('three'));
    expect(all).to.deep.equal(['one', 'two']);
    expect(routerOnly).to.deep.equal(['two']);
    expect(hub.recent('shop').map((l) => l.message)).to.deep.equal(['one', 'two', 'three']);
  });

  it('calls kernel.hooks.log for every (split) line, and forgets an app on request', () => {
    const kernel = new Kernel();
    const seen: LogLine[] = [];
    kernel.hooks.log.tap('test-drain', (l) => {
      seen.push(l);
    });
    const hub = new LogHub({ kernel });
    hub.write(line('y'.repeat(MAX_LINE_BYTES + 1)));
    expect(seen.map((l) => l.message.length)).to.deep.equal([MAX_LINE_BYTES, 1]);
    hub.forget('shop');
    expect(hub.recent('shop')).to.deep.equal([]);
  });
});
