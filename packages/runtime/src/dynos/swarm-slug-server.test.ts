/**
 * The slug server of the swarm runtime over real HTTP with a real slug store: a token fetches
 * exactly its own slug until it expires; another slug's token, a forged or expired one, and
 * unknown slugs get nothing.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SlugRef } from '@slipway/core';
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
    server = new SlugServer(store, 1500);
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
    const small = new SlugServer(new FsSlugStore(join(dir, 'store')), 60_000, 2, 1_000);
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

  it('refuses a token once it has expired', async () => {
    const url = server.urlFor(a);
    await new Promise((r) => setTimeout(r, 1600));
    expect((await fetch(url)).status).to.equal(403);
  });
});
