/**
 * The slug server of the swarm runtime over real HTTP with a real slug store: a token fetches
 * exactly its own slug until it expires; another slug's token, a forged or expired one, and
 * unknown slugs get nothing; a slug is forgotten once its last token expired.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualClock, type SlugRef } from '@slipway/core';
import { expect } from 'chai';
import { FsSlugStore } from '../state/fs-slug-store.js';
import { SlugServer } from './swarm-slug-server.js';

describe('swarm slug server (tokens bound to one slug)', () => {
  let dir: string;
  let server: SlugServer;
  let a: SlugRef;
  let b: SlugRef;
  const bodies = new Map<string, Buffer>();

  const put = async (store: FsSlugStore, text: string) => {
    const file = join(dir, `${text}.tgz`);
    const body = Buffer.from(`not really gzip: ${text}`);
    await writeFile(file, body);
    const ref = await store.put(file);
    bodies.set(ref.checksum, body);
    return ref;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-slug-server-'));
    const store = new FsSlugStore(join(dir, 'store'));
    a = await put(store, 'a');
    b = await put(store, 'b');
    server = new SlugServer(store, { ttlMs: 1500 });
    await server.listen('127.0.0.1', '127.0.0.1');
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a slug to its own token, byte for byte (the sha256 the dyno checks)', async () => {
    const r = await fetch(server.urlFor(a));
    expect(r.status).to.equal(200);
    const got = Buffer.from(await r.arrayBuffer());
    expect(`sha256:${createHash('sha256').update(got).digest('hex')}`).to.equal(a.checksum);
    expect(got.equals(bodies.get(a.checksum)!)).to.equal(true);
  });

  it("refuses another slug's token, a forged signature and an unknown slug", async () => {
    const urlA = new URL(server.urlFor(a));
    const urlB = new URL(server.urlFor(b));
    const swapped = new URL(urlA);
    swapped.pathname = urlB.pathname;
    expect((await fetch(swapped)).status).to.equal(403);
    const forged = new URL(urlA);
    forged.searchParams.set('sig', '0'.repeat(64));
    expect((await fetch(forged)).status).to.equal(403);
    const longer = new URL(urlA);
    longer.searchParams.set('exp', String(Number(urlA.searchParams.get('exp')) + 60_000));
    expect((await fetch(longer)).status).to.equal(403);
    const unknown = new URL(urlA);
    unknown.pathname = `/slugs/${'f'.repeat(64)}`;
    expect((await fetch(unknown)).status).to.equal(404);
  });

  it('closes connections past its cap and those that send no request in time', async () => {
    const small = new SlugServer(new FsSlugStore(join(dir, 'store')), {
      maxConnections: 2,
      requestTimeoutMs: 1_000,
    });
    await small.listen('127.0.0.1', '127.0.0.1');
    const url = new URL(small.urlFor(a));
    const open = () =>
      new Promise<Socket>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: Number(url.port) }, () => resolve(s));
        s.on('error', () => {});
        s.resume();
      });
    const closed = (s: Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));
    try {
      const idle = [await open(), await open()];
      const third = await open();
      await closed(third);
      // Idle ones (no request line) are cut after the headers timeout, and a fetch gets in again.
      const t0 = Date.now();
      await Promise.all(idle.map(closed));
      expect(Date.now() - t0).to.be.below(5_000);
      expect((await fetch(url)).status).to.equal(200);
    } finally {
      await small.close();
    }
  });

  it('forgets a slug once all its tokens expired (manual clock): no entry kept per slug ever issued', async () => {
    const clock = manualClock();
    const timed = new SlugServer(new FsSlugStore(join(dir, 'store')), { ttlMs: 60_000, clock });
    await timed.listen('127.0.0.1', '127.0.0.1');
    try {
      const first = timed.urlFor(a);
      timed.urlFor(b);
      clock.advance(30_000);
      const second = timed.urlFor(a);
      expect(timed.slugs).to.equal(2);
      // b's only token and a's first have expired; a's second still fetches it.
      clock.advance(30_000);
      expect(timed.slugs).to.equal(1);
      expect((await fetch(first)).status).to.equal(403);
      expect((await fetch(second)).status).to.equal(200);
      clock.advance(29_999);
      expect((await fetch(second)).status).to.equal(200);
      clock.advance(1);
      expect(timed.slugs).to.equal(0);
      expect(clock.pending, 'timers left').to.equal(0);
      // Unknown now, as a slug never issued.
      expect((await fetch(second)).status).to.equal(404);
      expect((await fetch(timed.urlFor(a))).status).to.equal(200);
    } finally {
      await timed.close();
    }
    expect(clock.pending, 'timers left after close').to.equal(0);
  });

  it('refuses a token once it has expired, on the system clock', async () => {
    const url = server.urlFor(a);
    await new Promise((r) => setTimeout(r, 1600));
    // Its slug had no later token: forgotten with this one, so unknown (the 403 of an expired
    // token whose slug is still known is the manual-clock test's).
    expect((await fetch(url)).status).to.equal(404);
    expect(server.slugs).to.equal(0);
  });
});
