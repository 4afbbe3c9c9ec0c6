import { type ChildProcess, spawn } from 'node:child_process';
import { expect } from 'chai';
import {
  type Backend,
  describePlanes,
  request,
  startBackend,
  startRouter,
  type TestRouter,
  TestTable,
} from './test-harness.test.js';

const HOST = 'app.example.test';

/**
 * A TCP port whose connections never complete: a listening socket with a zero backlog that
 * never accepts, its queue already full, so the kernel drops further SYNs. Node always accepts,
 * so a small Python process holds it.
 */
const BLACKHOLE = `
import socket, sys, time
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(4):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(('127.0.0.1', port))
    except BlockingIOError:
        pass
    fill.append(c)
time.sleep(0.2)
print(port, flush=True)
sys.stdin.read()
`;

function startBlackhole(): Promise<{ port: number; proc: ChildProcess } | undefined> {
  return new Promise((resolve) => {
    const proc = spawn('python3', ['-c', BLACKHOLE], { stdio: ['pipe', 'pipe', 'inherit'] });
    proc.on('error', () => resolve(undefined));
    proc.stdout!.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), proc }));
  });
}

describePlanes('router: connect timeout (H19) against a port that never accepts', (plane) => {
  let hole: { port: number; proc: ChildProcess } | undefined;
  let live: Backend;
  let r: TestRouter;
  const table = new TestTable();

  before(async function () {
    hole = await startBlackhole();
    if (!hole) {
      if (process.env.CI === 'true')
        throw new Error('python3 is required for the H19 tests (apt-get install python3)');
      console.warn('\n  !!! SKIPPED: H19 connect-timeout tests need python3 on PATH\n');
      this.skip();
    }
    live = await startBackend();
    r = await startRouter(table, { timeouts: { connect: 150, quarantine: 2000, firstByte: 3000 } }, plane);
  });
  after(async () => {
    hole?.proc.kill();
    await r?.router.close();
    await live?.close();
  });

  it('answers H19 when the only dyno does not accept within the connect timeout', async () => {
    table.set('app', [{ dyno: 'web.1', host: '127.0.0.1', port: hole!.port }]);
    const t0 = Date.now();
    const reply = await request(r.port, { host: HOST });
    expect(reply.status).to.equal(503);
    // HAProxy 2.6's own 503 page cannot tell a connect timeout from a refusal (it says H21);
    // its log line, from the termination state, says H19.
    expect(reply.body).to.contain(plane === 'node' ? 'H19' : 'H21');
    expect(Date.now() - t0).to.be.within(140, 3000);
    const line = await r.line(/code=H19 desc="Backend connection timeout"/);
    if (plane === 'node') expect(line).to.contain('dyno=web.1');
  });

  it('retries on another dyno after a connect timeout, then keeps the slow dyno quarantined', async () => {
    const fresh = await startRouter(
      new TestTable().set('app', [
        { dyno: 'web.1', host: '127.0.0.1', port: hole!.port },
        live.target('web.2'),
      ]),
      { timeouts: { connect: 400, quarantine: 10_000, firstByte: 5000 } },
      plane,
    );
    try {
      // The choice is random: send until one request meets the silent dyno (2^-30 odds of never).
      let slow = 0;
      for (let i = 0; i < 30 && slow === 0; i++) {
        const t0 = Date.now();
        const reply = await request(fresh.port, { host: HOST });
        expect(reply.status).to.equal(200);
        if (Date.now() - t0 >= 390) slow++;
      }
      expect(slow, 'one request waited for the connect timeout, then was retried').to.equal(1);
      for (let i = 0; i < 10; i++) {
        const t0 = Date.now();
        expect((await request(fresh.port, { host: HOST })).status).to.equal(200);
        expect(Date.now() - t0, 'quarantined: nobody waits for web.1 again').to.be.lessThan(390);
      }
    } finally {
      await fresh.router.close();
    }
  });
});
