/**
 * The attach hub against a real attached one-off dyno and a real WebSocket client: output goes
 * to the client with back-pressure, so a client that stops reading holds the dyno, not the
 * platform's memory.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SlugRef } from '@slipway/core';
import { expect } from 'chai';
import { WebSocket } from 'ws';
import { packSlug, tempDataDir } from '../dynos/dyno-test-kit.test-helper.js';
import { LocalDynoRuntime } from '../dynos/local-runtime.js';
import { AttachHub, CHANNEL } from './attach-hub.js';

describe('AttachHub (real one-off dyno, real WebSocket)', function () {
  this.timeout(120_000);
  let data: Awaited<ReturnType<typeof tempDataDir>>;
  let runtime: LocalDynoRuntime;
  let server: Server;
  let slug: SlugRef;
  const hub = new AttachHub();

  before(async () => {
    data = await tempDataDir();
    const packed = await packSlug(data.dir);
    slug = packed.slug;
    const store = packed.store;
    runtime = new LocalDynoRuntime({ dataDir: data.dir, slugStore: store, memory: 'none' });
    server = createServer((_q, res) => res.end());
    server.on('upgrade', (req, socket, head) => {
      if (!hub.upgrade(req, socket, head)) socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    hub.close();
    server?.close();
    await runtime?.close(500);
    await data?.cleanup();
  });

  // Issue 11 (4): output was sent with no regard for the socket, so a client that did not
  // read made the platform buffer everything the dyno printed.
  it('holds a dyno printing 300 MB to a client that does not read, without buffering it', async () => {
    const session = await runtime.runOnce({
      app: 'att',
      release: 1,
      type: 'run',
      command: 'head -c 314572800 /dev/zero',
      env: {},
      size: { name: 'standard-1x', memoryMb: 512 },
      slug,
      attach: true,
    });
    const secret = hub.hold(session, 'run.1');
    const port = (server.address() as AddressInfo).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}${AttachHub.path(secret)}`);
    let received = 0;
    let exitCode: number | undefined;
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (binary && data[0] === CHANNEL.stdout) received += data.length - 1;
      else if (!binary) {
        const m = JSON.parse(data.toString());
        if (m.type === 'exit') exitCode = m.code;
      }
    });
    await new Promise((r) => ws.once('open', r));
    ws.pause(); // the client stops reading
    const before = process.memoryUsage().rss;
    await new Promise((r) => setTimeout(r, 3000));
    const grown = process.memoryUsage().rss - before;
    expect(grown, `RSS grew by ${Math.round(grown / 1048576)} MB`).to.be.below(64 << 20);
    expect(received).to.be.below(64 << 20);
    ws.resume();
    await new Promise((r) => ws.once('close', r));
    expect(received).to.equal(314572800);
    expect(exitCode).to.equal(0);
  });
});
