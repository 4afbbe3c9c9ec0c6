/**
 * Destroying an app collects its slugs (real platform in-process, real builds and dynos, the
 * real CLI): the archives in the slug store, their metadata, and its dir in the runtime dir
 * (the unpacked copies its dynos ran, its build cache) go; another app's slugs, cache and dynos stay, and so does a slug that
 * another app's release still uses (slugs are content-addressed, so apps can share one).
 */
import { execFile } from 'node:child_process';
import { access, chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type Platform, startPlatform } from '../platform.js';
import {
  CLI,
  fixtureCopy,
  nodeOnlyConfig,
  removeFixtureCopies,
  routerGet,
} from '../platform-harness.test-helper.js';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('slug collection when an app is destroyed (real platform)', function () {
  this.timeout(240_000);
  let dir: string;
  let p: Platform;

  const slipway = (args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [CLI, ...args],
        { env: { ...process.env, SLIPWAY_API_URL: p.apiUrl, SLIPWAY_TOKEN: p.token, SLIPWAY_APP: '' } },
        (err, stdout, stderr) =>
          err ? reject(new Error(`slipway ${args.join(' ')}: ${stdout}${stderr}`)) : resolve(stdout),
      ),
    );
  const deploy = async (app: string, version: string) =>
    slipway(['deploy', await fixtureCopy('hello', { VERSION: version }), '-a', app]);
  const hex = (checksum: string) => checksum.replace(/^sha256:/, '');
  /** An app's dir in the runtime dir (its unpacked slugs, build cache, dyno homes). */
  const appDir = (app: string) => join(dir, 'data', 'run', 'apps', app);
  /** Where a slug lives: archive in the store, the app's unpacked copy of the local runtime. */
  const places = (checksum: string, app: string) => [
    join(dir, 'data', 'slug-store', `${hex(checksum)}.tgz`),
    join(appDir(app), 'slugs', hex(checksum)),
  ];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-slug-gc-'));
    await chmod(dir, 0o755); // app uids reach <data>/run when the tests run as root
    p = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile: await nodeOnlyConfig(dir),
      bootTimeoutMs: 5000,
      stopGraceMs: 1000,
      // The places below are the plain local runtime's (the sandbox keeps `sandbox-slugs`).
      runtime: 'local',
    });
  });
  after(async () => {
    await p?.stop();
    await rm(dir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  it("removes the destroyed app's slug files, metadata, unpacked slugs and build cache; not another app's", async () => {
    await slipway(['apps:create', 'doomed']);
    await slipway(['apps:create', 'kept']);
    await deploy('doomed', 'd1');
    await deploy('doomed', 'd2');
    await deploy('kept', 'k1');
    const doomed = p.state.app('doomed');
    const kept = p.state.app('kept');
    const [d1, d2] = p.state.listReleases(doomed.id).map((r) => r.slug as string);
    const k1 = p.state.currentRelease(kept.id)?.slug as string;
    expect(new Set([d1, d2, k1]).size).to.equal(3);
    // A slug of the doomed app that a release of the kept app also uses (as the same bytes
    // built for both would be): recorded as a failed release, so `kept` keeps serving k1.
    await deploy('doomed', 'd3');
    const shared = p.state.currentRelease(doomed.id)?.slug as string;
    p.state.createRelease(kept.id, {
      description: 'shares a slug',
      slug: shared,
      config: {},
      status: 'failed',
    });

    for (const c of [d2, shared]) for (const f of places(c, 'doomed')) expect(await exists(f), f).to.be.true;
    for (const f of places(k1, 'kept')) expect(await exists(f), f).to.be.true;
    expect(await exists(places(d1, 'doomed')[0] as string)).to.be.true; // not running: no unpacked copy needed
    expect(await exists(join(appDir('doomed'), 'cache'))).to.be.true;
    expect(await exists(join(appDir('kept'), 'cache'))).to.be.true;

    await slipway(['apps:destroy', '-a', 'doomed', '--confirm', 'doomed']);

    const stored = await readdir(join(dir, 'data', 'slug-store'));
    for (const c of [d1, d2]) {
      for (const f of places(c, 'doomed')) expect(await exists(f), f).to.be.false;
      // Nothing else named after it either (the `<slug>.json` metadata is the state's row here).
      expect(stored.filter((name) => name.startsWith(hex(c)))).to.deep.equal([]);
      expect(p.state.slug(c), c).to.equal(undefined);
    }
    // The doomed app's dir (build cache, unpacked slugs, homes) goes whole.
    expect(await exists(appDir('doomed'))).to.be.false;
    // The shared slug's archive and metadata stay for kept's release.
    expect(await exists(places(shared, 'kept')[0] as string)).to.be.true;
    expect(p.state.slug(shared)).to.not.equal(undefined);
    for (const f of places(k1, 'kept')) expect(await exists(f), f).to.be.true;
    expect(p.state.slug(k1)).to.not.equal(undefined);
    expect(await exists(join(appDir('kept'), 'cache'))).to.be.true;
    const served = await routerGet(p.routerPort, 'kept');
    expect(served.status, served.body).to.equal(200);
    expect(JSON.parse(served.body).version).to.equal('k1');
  });
});
