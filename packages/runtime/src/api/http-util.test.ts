/** The bounded line writer of streamed answers, against a real HTTP server and a slow client. */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { boundedLineWriter } from './http-util.js';

describe('boundedLineWriter', () => {
  // Issue 11 (4): a `logs --tail` that stops reading (a paused pager) made the platform buffer
  // every line of a flooding app for it.
  it('never queues more than its limit for a client that does not read, and says what it dropped', async () => {
    let res!: ServerResponse;
    let server!: ReturnType<typeof createServer>;
    let client!: IncomingMessage;
    const ready = new Promise<void>((resolve) => {
      const srv = createServer((_req, r) => {
        res = r;
        r.writeHead(200, { 'content-type': 'text/plain' });
        resolve();
      });
      srv.listen(0, '127.0.0.1', () => {
        const req = request({ port: (srv.address() as AddressInfo).port, host: '127.0.0.1' }, (incoming) => {
          incoming.pause(); // the client reads nothing for now
          client = incoming;
        });
        req.end();
      });
      server = srv;
    });
    await ready;
    await new Promise((r) => setTimeout(r, 100));
    const write = boundedLineWriter(res, 256 * 1024);
    const line = 'y'.repeat(1000);
    let most = 0;
    for (let i = 0; i < 20_000; i++) {
      write(line); // 20 MB offered
      most = Math.max(most, res.writableLength);
      if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(most).to.be.below(256 * 1024 + 2 * line.length);
    // The client catches up; the next line comes with the count of what it missed.
    let text = '';
    client.setEncoding('utf8');
    client.on('data', (c: string) => (text += c));
    client.resume();
    while (res.writableLength > 0) await new Promise((r) => setTimeout(r, 20));
    write('after');
    res.end();
    await new Promise((r) => client.once('end', r));
    server.close();
    expect(text).to.match(
      /Error L10 \(output buffer overflow\): \d+ lines dropped \(the client read too slowly\)\nafter\n$/,
    );
    // Of 20 MB offered, what arrived is what the limit and the sockets' kernel buffers held.
    expect(text.length).to.be.below(10 << 20);
  });
});
