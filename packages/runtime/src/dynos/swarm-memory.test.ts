/**
 * Memory reports of Swarm dynos (R14, R15), over a real rendezvous on loopback: a dyno's
 * reporter that calls back with its secret has each line taken as a sample of bytes, a line
 * that is not a number ends the reports, and following stops when the dyno ends; R15 is a
 * SIGKILL nobody of the platform sent while the last sample was over quota.
 */
import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { killedForMemory, MEMORY_REPORTER, MemoryReports } from './swarm-memory.js';
import { Rendezvous } from './swarm-rendezvous.js';

describe('swarm memory reports (R14, R15 on every node)', () => {
  const rv = new Rendezvous();
  const reports = new MemoryReports(rv, 5000);
  before(() => rv.listen('127.0.0.1', 'slipway-edge'));
  after(() => rv.close());

  const reporter = (env: Record<string, string>) =>
    new Promise<Socket>((resolve) => {
      const [, port, secret] = env.SLIPWAY_MEMORY_REPORT!.split(':');
      const s = connect({ host: '127.0.0.1', port: Number(port) }, () => {
        s.write(`${secret}\n`);
        resolve(s);
      });
      s.on('error', () => {});
    });

  it('takes each line from the dyno as a sample of bytes until a line is not a number', async () => {
    const ask = reports.ask();
    expect(ask.env.SLIPWAY_MEMORY_REPORT).to.match(/^slipway-edge:\d+:[0-9a-f]{48}$/);
    const samples: number[] = [];
    ask.follow((b) => samples.push(b));
    const s = await reporter(ask.env);
    s.write('629145600\n7340');
    s.write('032\n');
    await new Promise((r) => setTimeout(r, 200));
    expect(samples).to.deep.equal([629_145_600, 7_340_032]);
    s.write('rm -rf /\n');
    await new Promise((r) => s.once('close', r));
    expect(samples).to.have.length(2);
  });

  it('stops following when the dyno ends', async () => {
    const ask = reports.ask();
    const samples: number[] = [];
    const stop = ask.follow((b) => samples.push(b));
    const s = await reporter(ask.env);
    s.write('1\n');
    await new Promise((r) => setTimeout(r, 200));
    stop();
    await new Promise((r) => s.once('close', r));
    expect(samples).to.deep.equal([1]);
  });

  it('is R15 only for a SIGKILL the platform did not send while over quota', () => {
    const quota = 512 << 20;
    expect(killedForMemory(137, false, quota + 1, quota)).to.equal(true);
    expect(killedForMemory(137, true, quota + 1, quota)).to.equal(false);
    expect(killedForMemory(137, false, quota, quota)).to.equal(false);
    expect(killedForMemory(143, false, quota + 1, quota)).to.equal(false);
    expect(killedForMemory(137, false, undefined, quota)).to.equal(false);
  });

  it('has a reporter with no single quote (it is quoted into the boot script)', () => {
    expect(MEMORY_REPORTER).not.to.include("'");
  });
});
