/** The pieces of tenant isolation on their own: the build environment, the uid table, the app dirs. */
import { chmod, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSlipwayError } from '@slipway/core';
import { expect } from 'chai';
import { AppDirs, secureDataDir } from './app-dirs.js';
import { AppUsers, defaultUidBase, isRoot } from './app-users.js';
import { buildEnvironment, reachablePath } from './build-env.js';

describe('tenant isolation pieces', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-isolation-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("builds an environment from nothing: no platform variable, the host's CA and proxy settings, a reachable PATH", async () => {
    const hidden = join(dir, 'private-bin');
    await mkdir(hidden, { mode: 0o700 });
    await chmod(dir, 0o700);
    const env = await buildEnvironment({
      home: '/apps/a/home',
      tmp: '/apps/a/build/tmp',
      isolated: true,
      from: {
        PATH: `${hidden}:/usr/bin:/bin:/usr/bin`,
        HOME: '/root',
        SLIPWAY_TOKEN: 'secret',
        npm_config_cache: '/root/.npm',
        SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt',
        HTTPS_PROXY: 'http://proxy.test:3128',
      },
    });
    expect(env).to.include({
      PATH: '/usr/bin:/bin',
      HOME: '/apps/a/home',
      TMPDIR: '/apps/a/build/tmp',
      SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt',
      HTTPS_PROXY: 'http://proxy.test:3128',
    });
    expect(env).to.not.have.any.keys('SLIPWAY_TOKEN', 'npm_config_cache');
    // Without a uid switch the PATH is the platform's, unfiltered.
    expect(await reachablePath(`${hidden}:/usr/bin`, false)).to.equal(`${hidden}:/usr/bin`);
  });

  it('gives each app its own uid, skipping ids the host uses, kept across reopen; a destroyed app’s uid is never reused', async () => {
    // uid 0 (root) is in /etc/passwd on every host: a base of 0 must skip it.
    const users = await AppUsers.open(dir, { uidBase: 0 });
    const a = await users.userFor('a');
    const b = await users.userFor('b');
    expect(a.uid).to.not.equal(0);
    expect(b.uid).to.be.above(a.uid);
    expect(a.gid).to.equal(a.uid);
    expect((await stat(join(dir, 'app-uids.json'))).mode & 0o777).to.equal(0o600);
    const again = await AppUsers.open(dir, { uidBase: 0 });
    expect(await again.userFor('a')).to.deep.equal(a);
    await again.retire('a');
    const next = await AppUsers.open(dir, { uidBase: 0 });
    const reborn = await next.userFor('a');
    expect([a.uid, b.uid]).to.not.include(reborn.uid);
    expect(JSON.parse(await readFile(join(dir, 'app-uids.json'), 'utf8')).retired).to.deep.equal([a.uid]);
    expect(next.enforced).to.equal(isRoot());
    // Without a base: a block of 1000 chosen by the data dir, recorded with the table.
    const other = await mkdtemp(join(tmpdir(), 'slipway-isolation-'));
    try {
      const first = (await (await AppUsers.open(other)).userFor('x')).uid;
      expect(first).to.equal(defaultUidBase(other));
      expect((first - 200_000) % 1000).to.equal(0);
      expect(JSON.parse(await readFile(join(other, 'app-uids.json'), 'utf8')).uidBase).to.equal(first);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('makes the data dir private: 0711/0700, state and credentials 0600', async () => {
    await rm(dir, { recursive: true });
    await mkdir(dir, { mode: 0o755 });
    await mkdir(join(dir, 'git'), { mode: 0o755 });
    await writeFile(join(dir, 'state.db'), '', { mode: 0o644 });
    await secureDataDir(dir);
    expect((await stat(dir)).mode & 0o777).to.equal(isRoot() ? 0o711 : 0o700);
    expect((await stat(join(dir, 'git'))).mode & 0o777).to.equal(0o700);
    expect((await stat(join(dir, 'state.db'))).mode & 0o777).to.equal(0o600);
  });

  it("fences each app: root-owned 0750 with the app's group, the app's own dirs 0700; a planted symlink is refused", async function () {
    if (!isRoot()) return this.skip();
    const dirs = await AppDirs.open(dir, join(dir, 'run'));
    const user = { uid: 299_990, gid: 299_990 };
    const home = await dirs.owned('a', user, 'dynos', 'x', 'home');
    const fence = await stat(join(dir, 'run', 'apps', 'a'));
    expect([fence.uid, fence.gid, fence.mode & 0o777]).to.deep.equal([0, user.gid, 0o750]);
    const mid = await stat(join(dir, 'run', 'apps', 'a', 'dynos', 'x'));
    expect([mid.uid, mid.gid]).to.deep.equal([0, user.gid]);
    const own = await lstat(home);
    expect([own.uid, own.mode & 0o777]).to.deep.equal([user.uid, 0o700]);
    expect((await stat(join(dir, 'run'))).mode & 0o777).to.equal(0o711);
    // A runtime dir that is a symlink (planted by someone) is refused, not followed.
    await symlink('/etc', join(dir, 'planted'));
    const err = await AppDirs.open(dir, join(dir, 'planted')).catch((e) => e);
    expect(isSlipwayError(err, 'SLIPWAY_ERR_RUNTIME_DATA_DIR'), String(err)).to.equal(true);
  });
});
