/**
 * The signed suite index, against Debian's real mirror and keyring: a genuine InRelease
 * verifies; a mirror in between that alters it, passes another suite's off as this one, or
 * serves a package list the InRelease does not name is refused with a coded error, and nothing
 * from its list is used.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSlipwayError } from '@slipway/core';
import { expect } from 'chai';
import { debianPackages } from './debian-packages.js';
import { releaseHashes, verifiedRelease } from './debian-release.js';

const MIRROR = 'http://deb.debian.org/debian';

/** A mirror on loopback answering `routes` (path → body), 404 otherwise. */
async function fakeMirror(routes: Record<string, Buffer | string>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const body = routes[req.url ?? ''];
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isSlipwayError(e), String(e)).to.equal(true);
  return e as Error & { code: string };
};

describe('Debian suite index (signed InRelease)', function () {
  this.timeout(60_000);
  let genuine: string;
  let trixie: string;
  const servers: Server[] = [];
  let cache: string;

  before(async function () {
    const get = (suite: string) =>
      fetch(`${MIRROR}/dists/${suite}/InRelease`).then((r) => (r.ok ? r.text() : Promise.reject(r.status)));
    try {
      [genuine, trixie] = await Promise.all([get('bookworm'), get('trixie')]);
    } catch (e) {
      const why = `needs the Debian mirror (${MIRROR}): ${e}`;
      if (process.env.CI === 'true') throw new Error(why);
      console.warn(`    ⚠ SKIPPED: ${why}`);
      this.skip();
    }
    cache = await mkdtemp(join(tmpdir(), 'slipway-release-'));
  });
  after(async () => {
    for (const s of servers) s.close();
    if (cache) await rm(cache, { recursive: true, force: true });
  });
  const mirror = async (routes: Record<string, Buffer | string>) => {
    const m = await fakeMirror(routes);
    servers.push(m.server);
    return m.url;
  };

  it('reads the SHA-256 entries of a Release', () => {
    const text = `Codename: bookworm\nMD5Sum:\n 0123 12 main/x\nSHA256:\n ${'a'.repeat(64)}  1234 main/binary-amd64/Packages.xz\n ${'b'.repeat(64)} 9 contrib/Release\nNext: x\n`;
    const hashes = releaseHashes(text);
    expect(hashes.get('main/binary-amd64/Packages.xz')).to.deep.equal({ sha256: 'a'.repeat(64), size: 1234 });
    expect(hashes.size).to.equal(2);
  });

  it("verifies the mirror's InRelease against the archive keyring and names its package list", async () => {
    const text = await verifiedRelease({ mirror: MIRROR, suite: 'bookworm' }, 'Python');
    expect(text).to.match(/^Codename: bookworm$/m);
    expect(releaseHashes(text).get('main/binary-amd64/Packages.xz')?.sha256).to.match(/^[0-9a-f]{64}$/);
  });

  it('refuses an InRelease altered on the way, naming the keyring', async () => {
    // One hash changed in the signed text: the signature no longer matches.
    const altered = genuine.replace(
      /^( [0-9a-f]{63})[0-9a-f]( +\d+ main\/binary-amd64\/Packages\.xz)$/m,
      '$10$2',
    );
    expect(altered).to.not.equal(genuine);
    const url = await mirror({ '/dists/bookworm/InRelease': altered });
    const e = await refusal(verifiedRelease({ mirror: url, suite: 'bookworm' }, 'Python'));
    expect(e.code).to.equal('SLIPWAY_ERR_BUILDPACK_RUNTIME_DOWNLOAD');
    expect(e.message).to.match(
      /signature does not verify against \/usr\/share\/keyrings\/debian-archive-keyring\.gpg/,
    );
  });

  it("refuses another suite's genuine InRelease served as this one's", async () => {
    const url = await mirror({ '/dists/bookworm/InRelease': trixie });
    const e = await refusal(verifiedRelease({ mirror: url, suite: 'bookworm' }, 'Python'));
    expect(e.message).to.match(/is the Release of stable\/trixie, not of bookworm/);
  });

  it('uses no package list the signed InRelease does not name', async () => {
    const list =
      'Package: python3.11\nVersion: 9.9\nFilename: pool/evil.deb\nSHA256: ' + 'c'.repeat(64) + '\n';
    const { execFileSync } = await import('node:child_process');
    const xz = execFileSync('xz', ['-c'], { input: list });
    const url = await mirror({
      '/dists/bookworm/InRelease': genuine,
      '/dists/bookworm/main/binary-amd64/Packages.xz': xz,
    });
    const e = await refusal(
      debianPackages({ mirror: url, suite: 'bookworm' }, ['python3.11'], cache, 'Python'),
    );
    expect(e.message).to.match(
      /is not the [0-9a-f]{64} the suite's signed InRelease gives; nothing from it is used/,
    );
  });
});
