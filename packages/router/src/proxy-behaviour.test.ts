import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { expect } from 'chai';
import {
  type Backend,
  describePlanes,
  request,
  settle,
  startBackend,
  startRouter,
  type TestRouter,
  TestTable,
  until,
} from './test-harness.test.js';

const HOST = 'app.example.test';

describePlanes('router: streaming, draining and balancing (real HTTP)', (plane) => {
  const table = new TestTable();
  let r: TestRouter;
  const backends: Backend[] = [];
  const backend = async (h?: http.RequestListener): Promise<Backend> => {
    const b = await startBackend(h);
    backends.push(b);
    return b;
  };
  before(async () => {
    r = await startRouter(table, { limits: { inFlightPerDyno: 100 } }, plane);
  });
  after(async () => {
    await r.router.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('streams the response: the client reads the first chunk before the dyno finishes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => {
      release = res;
    });
    const dyno = await backend((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      gate.then(() => res.end('last'));
    });
    table.set('app', [dyno.target('web.1')]);
    await settle();
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: r.port, headers: { host: HOST }, agent: false },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
            // Only once the first chunk arrived may the dyno finish: buffering would deadlock here.
            if (text === 'first;') release();
          });
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body).to.equal('first;last');
  });

  it('streams the request: the dyno answers the first chunk while the client is still sending', async () => {
    const dyno = await backend((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      req.on('data', (c) => res.write(`got:${c};`));
      req.on('end', () => res.end('end'));
    });
    table.set('app', [dyno.target('web.1')]);
    await settle();
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: r.port, method: 'POST', headers: { host: HOST }, agent: false },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
            if (text === 'got:one;') req.end('two');
          });
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.flushHeaders();
      req.write('one');
    });
    expect(body).to.equal('got:one;got:two;end');
  });

  it('carries a 32 MB upload and download intact', async () => {
    const dyno = await backend((req, res) => {
      const hash = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => {
        hash.update(c);
        n += c.length;
      });
      req.on('end', () => {
        res.setHeader('x-sha', hash.digest('hex'));
        res.setHeader('x-len', String(n));
        res.end(Buffer.alloc(32 * 1024 * 1024, 3));
      });
    });
    table.set('app', [dyno.target('web.1')]);
    await settle();
    const payload = Buffer.alloc(32 * 1024 * 1024, 5);
    const reply = await new Promise<{ sha: string; len: string; down: number }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: r.port, method: 'PUT', headers: { host: HOST }, agent: false },
        (res) => {
          let down = 0;
          res.on('data', (c: Buffer) => {
            down += c.length;
          });
          res.on('end', () =>
            resolve({ sha: String(res.headers['x-sha']), len: String(res.headers['x-len']), down }),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
    expect(reply.len).to.equal(String(payload.length));
    expect(reply.sha).to.equal(createHash('sha256').update(payload).digest('hex'));
    expect(reply.down).to.equal(32 * 1024 * 1024);
  });

  // Issue 11: a client that sent its request and then half-closed got no answer (H27 logged).
  it('answers a client that half-closes after sending its request', async () => {
    const slow = await backend((_req, res) => setTimeout(() => res.end('after the FIN'), 200));
    table.set('app', [slow.target('web.1')]);
    await settle();
    const text = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(r.port, '127.0.0.1');
      let got = '';
      socket.on('data', (d) => {
        got += d.toString('latin1');
      });
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
      socket.end(`GET /half HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`); // request, then FIN
    });
    expect(text).to.match(/^HTTP\/1\.1 200 /);
    expect(text).to.match(/after the FIN$/);
    await r.line(/path="\/half".*status=200/);
    expect(r.lines.some((l) => /H27/.test(l.message))).to.equal(false);
  });

  it('drains: a dyno leaving the table finishes its in-flight requests; new ones go elsewhere', async () => {
    const old = await backend((_req, res) => setTimeout(() => res.end('old'), 200));
    const fresh = await backend((_req, res) => res.end('new'));
    table.set('app', [old.target('web.1')]);
    await settle();
    const inFlight = [request(r.port, { host: HOST }), request(r.port, { host: HOST })];
    await until(() => old.seen.length === 2, 'both requests at the old dyno');
    table.set('app', [fresh.target('web.2')]);
    await settle();
    for (let i = 0; i < 5; i++) expect((await request(r.port, { host: HOST })).body).to.equal('new');
    const done = await Promise.all(inFlight);
    expect(done.map((d) => [d.status, d.body])).to.deep.equal([
      [200, 'old'],
      [200, 'old'],
    ]);
    expect(old.seen.length).to.equal(2);
  });

  /** Share of requests the fast dyno gets when the other one answers slowly. */
  async function fastShare(strategy: 'p2c' | 'random'): Promise<number> {
    const fast = await backend((_req, res) => res.end('fast'));
    const slow = await backend((_req, res) => setTimeout(() => res.end('slow'), 100));
    table.set('bal', [fast.target('web.1'), slow.target('web.2')]);
    await settle();
    const router = await startRouter(table, { balance: strategy });
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
      const one = (): Promise<string> =>
        new Promise((resolve, reject) => {
          http
            .get(
              { host: '127.0.0.1', port: router.port, headers: { host: 'bal.example.test' }, agent },
              (res) => {
                let t = '';
                res.on('data', (c) => {
                  t += c;
                });
                res.on('end', () => resolve(t));
              },
            )
            .on('error', reject);
        });
      const counts = { fast: 0, slow: 0 };
      const worker = async (): Promise<void> => {
        for (let i = 0; i < 25; i++) counts[(await one()) as 'fast' | 'slow']++;
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      agent.destroy();
      return counts.fast / (counts.fast + counts.slow);
    } finally {
      await router.router.close();
    }
  }

  it('balances across dynos; power-of-two-choices sends most requests to the dyno that keeps up', async () => {
    const random = await fastShare('random');
    const p2c = await fastShare('p2c');
    if (process.env.SLIPWAY_ROUTER_SHARES)
      console.log(`    fast dyno share: random ${random.toFixed(2)}, p2c ${p2c.toFixed(2)}`);
    // Random splits evenly by count whatever the speed; P2C follows in-flight load.
    expect(random).to.be.within(0.3, 0.7);
    expect(p2c).to.be.greaterThan(0.7);
    expect(p2c).to.be.greaterThan(random + 0.15);
  });
});
