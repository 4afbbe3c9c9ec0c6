/** Fetching runtimes and their release lists, against a real HTTP server on a free loopback port. */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { cachedList, downloadVerified, fetchChecked } from './runtime-install.js';

const BODY = 'a runtime tarball\n';
const what = { tool: 'Thing', version: '1.2.3' };

describe('runtime install: downloads and release lists', () => {
  let server: Server;
  let base: string;
  let dir: string;
  const hits: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url?.startsWith('/list')) res.end(JSON.stringify({ from: req.url }));
      else if (req.url === '/file') res.end(BODY);
      else if (req.url === '/bad-json') res.end('{ not json');
      else res.writeHead(404).end('no');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'slipway-runtime-install-'));
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a release list for its TTL, and fetches anew when the source changes', async () => {
    const list = (source: string) =>
      cachedList(
        dir,
        'things',
        60_000,
        () => fetchChecked(what, `${base}${source}`, {}, (r) => r.json() as Promise<{ from: string }>),
        { from: `${base}${source}` },
      );
    hits.length = 0;
    expect(await list('/list-a')).to.deep.equal({ from: '/list-a' });
    expect(await list('/list-a')).to.deep.equal({ from: '/list-a' });
    expect(hits).to.deep.equal(['/list-a']);
    // The app moved to a mirror: the list kept from the old registry names its URLs, not the mirror's.
    expect(await list('/list-b')).to.deep.equal({ from: '/list-b' });
    expect(hits).to.deep.equal(['/list-a', '/list-b']);
  });

  it('fetches a kept list anew when it does not answer the question (a release published since)', async () => {
    let published = ['1.0.0'];
    let fetches = 0;
    const list = (wanted: string) =>
      cachedList(
        dir,
        'releases',
        60_000,
        async () => {
          fetches++;
          return [...published];
        },
        { enough: (kept) => kept.includes(wanted) },
      );
    expect(await list('1.0.0')).to.deep.equal(['1.0.0']);
    expect(await list('1.0.0')).to.deep.equal(['1.0.0']);
    expect(fetches).to.equal(1);
    published = ['1.0.0', '1.1.0'];
    // The app asks for the release published a minute ago: not "unavailable" for the next hour.
    expect(await list('1.1.0')).to.deep.equal(['1.0.0', '1.1.0']);
    expect(await list('1.0.0')).to.deep.equal(['1.0.0', '1.1.0']);
    expect(fetches).to.equal(2);
  });

  it('codes every failure of a fetch: status, unreachable, unreadable answer', async () => {
    const codeOf = (url: string) =>
      fetchChecked(what, url, {}, (r) => r.json()).then(
        () => 'answered',
        (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
      );
    expect(await codeOf(`${base}/missing`)).to.match(/^SLIPWAY_ERR_BUILDPACK_RUNTIME_DOWNLOAD: .*HTTP 404$/);
    expect(await codeOf(`${base}/bad-json`)).to.match(/^SLIPWAY_ERR_BUILDPACK_RUNTIME_DOWNLOAD: .*JSON/);
    expect(await codeOf('http://127.0.0.1:1/')).to.match(/^SLIPWAY_ERR_BUILDPACK_RUNTIME_DOWNLOAD: /);
  });

  it('keeps a download whose checksum matches and removes one that does not', async () => {
    const file = join(dir, 'thing.tgz');
    const sha256 = createHash('sha256').update(BODY).digest('hex');
    await downloadVerified(what, `${base}/file`, file, { sha256 });
    expect(await readFile(file, 'utf8')).to.equal(BODY);
    const integrity = `sha512-${createHash('sha512').update('something else').digest('base64')}`;
    const e = await downloadVerified(what, `${base}/file`, file, { integrity }).catch((x) => x);
    expect(e.code).to.equal('SLIPWAY_ERR_BUILDPACK_RUNTIME_DOWNLOAD');
    expect(e.message).to.include('checksum mismatch (sha512');
    expect(existsSync(file)).to.equal(false);
    const missing = await downloadVerified(what, `${base}/nope`, file, { sha256 }).catch((x) => x);
    expect(missing.message).to.include('HTTP 404');
    expect(existsSync(file)).to.equal(false);
  });
});
