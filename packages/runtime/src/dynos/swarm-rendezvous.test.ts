/**
 * The rendezvous of one-off dynos on other nodes, over real TCP on loopback: a dyno that sends
 * its session's secret gets its connection handed to that session (bytes after the secret
 * included, both ways); a wrong secret, or one already used, gets the connection closed; a
 * session whose dyno never calls back fails after its timeout.
 */
import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { Rendezvous } from './swarm-rendezvous.js';

describe('swarm rendezvous (one-off stdio from another node)', () => {
  const rv = new Rendezvous();
  before(() => rv.listen('127.0.0.1', 'slipway-edge'));
  after(() => rv.close());
  const port = () => Number(rv.address.split(':')[1]);
  const dial = (first: string) =>
    new Promise<Socket>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: port() }, () => {
        s.write(first);
        resolve(s);
      });
      s.on('error', () => {});
    });
  const closed = (s: Socket) =>
    new Promise<boolean>((r) => (s.destroyed ? r(true) : s.once('close', () => r(true))));

  it('closes connections past its cap of ones still to send a secret, and counts a settled one out', async () => {
    const small = new Rendezvous(2);
    await small.listen('127.0.0.1', 'slipway-edge');
    const at = Number(small.address.split(':')[1]);
    const open = () =>
      new Promise<Socket>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: at }, () => resolve(s));
        s.on('error', () => {});
      });
    try {
      const idle = [await open(), await open()];
      const third = await open();
      expect(await closed(third)).to.equal(true);
      // One of the idle ones leaves: a dyno's call is taken again.
      idle[0]!.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const call = small.expect(5000);
      const dyno = await open();
      dyno.write(`${call.secret}\n`);
      await call.socket;
      dyno.destroy();
      idle[1]!.destroy();
    } finally {
      await small.close();
    }
  });

  it('says where dynos call (the edge name) and hands the connection to its session', async () => {
    expect(rv.address).to.match(/^slipway-edge:\d+$/);
    const call = rv.expect(5000);
    const dyno = await dial(`${call.secret}\nhello from the dyno`);
    const session = await call.socket;
    const got = await new Promise<string>((r) => {
      let buf = '';
      session.on('data', (c: Buffer) => {
        buf += c.toString();
        if (buf.includes('dyno')) r(buf);
      });
      session.resume();
    });
    expect(got).to.equal('hello from the dyno');
    const back = new Promise<string>((r) => dyno.once('data', (c: Buffer) => r(c.toString())));
    session.write('stdin line\n');
    expect(await back).to.equal('stdin line\n');
    dyno.destroy();
    session.destroy();
  });

  it('closes a connection with a wrong or used secret', async () => {
    const call = rv.expect(5000);
    const wrong = await dial('0'.repeat(48) + '\n');
    expect(await closed(wrong)).to.equal(true);
    const first = await dial(`${call.secret}\n`);
    const session = await call.socket;
    const again = await dial(`${call.secret}\n`);
    expect(await closed(again)).to.equal(true);
    first.destroy();
    session.destroy();
  });

  it('fails a session whose dyno does not call back in time', async () => {
    const call = rv.expect(200);
    const err = await call.socket.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/did not call back within 0.2 s/);
  });
});
