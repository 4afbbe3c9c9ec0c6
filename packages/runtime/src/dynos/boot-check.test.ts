/**
 * The boot check's shared polling budget: one check (a release's) polls as fast as before; many at
 * once (a scale to 100) stretch their pauses so all of them together stay near 400 tries a second;
 * a real server is found, a port nobody binds is a timeout.
 */
import { createServer } from 'node:net';
import { expect } from 'chai';
import { bootCheck, sharedInterval } from './boot-check.js';

describe('boot check', () => {
  it('keeps the base pause up to 8 checks at once, then 2.5 ms per check, at most 250 ms', () => {
    expect(sharedInterval(20, 1)).to.equal(20);
    expect(sharedInterval(20, 8)).to.equal(20);
    expect(sharedInterval(100, 8)).to.equal(100);
    expect(sharedInterval(20, 40)).to.equal(100);
    expect(sharedInterval(100, 60)).to.equal(150);
    expect(sharedInterval(20, 100)).to.equal(250);
    expect(sharedInterval(100, 1000)).to.equal(250);
  });

  it('finds a bound port among many checks; a port nobody binds times out', async () => {
    const srv = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const port = (srv.address() as { port: number }).port;
    const free = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => free.once('listening', r));
    const unbound = (free.address() as { port: number }).port;
    await new Promise((r) => free.close(r));
    try {
      const t0 = Date.now();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          bootCheck({
            host: '127.0.0.1',
            port: i === 0 ? unbound : port,
            deadline: Date.now() + (i === 0 ? 800 : 10_000),
            exited: () => false,
          }),
        ),
      );
      expect(results[0]).to.deep.equal({ ok: false, kind: 'timeout', detail: 'did not bind $PORT' });
      expect(results.slice(1).every((r) => r.ok)).to.equal(true);
      expect(Date.now() - t0).to.be.below(5000);
    } finally {
      srv.close();
    }
  });
});
