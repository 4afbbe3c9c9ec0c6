/**
 * A data dir under a private parent (a clone in /root, mode 0700): app uids could never reach
 * it, so their dirs go to /var/lib/slipway/run/<hash> and the parent keeps its mode. A real
 * platform builds and serves an app from there; destroying the app removes its dirs and
 * retires its uid; the runtime dir of a data dir that is gone is swept at start.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  fixtureCopy,
  nodeOnlyConfig,
  PlatformProcess,
  removeFixtureCopies,
} from '../platform-harness.test-helper.js';
import { SHARED_RUNTIME_ROOT } from './app-dirs.js';

describe('a data dir under a private parent directory (real platform)', function () {
  this.timeout(240_000);
  let parent: string;
  let p: PlatformProcess | undefined;
  let runtimeDir = '';

  before(function () {
    if (process.getuid?.() === 0) return;
    if (process.env.CI === 'true') throw new Error('CI must run this as root: per-app uids need it');
    console.warn('      ⚠ not root: per-app uids are off, nothing to reach; skipped');
    this.skip();
  });
  after(async () => {
    await p?.kill('SIGTERM');
    if (parent) await rm(parent, { recursive: true, force: true });
    if (runtimeDir.startsWith(`${SHARED_RUNTIME_ROOT}/`))
      await rm(runtimeDir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  it('serves an app built and run as its own uid, without loosening the parent; apps:destroy cleans up', async () => {
    parent = await mkdtemp(join(tmpdir(), 'slipway-private-'));
    const dataDir = join(parent, 'data');
    await mkdir(dataDir);
    // The runtime dir of a data dir deleted earlier (a test's temp dir) is swept at start.
    const orphan = join(SHARED_RUNTIME_ROOT, `orphan-${process.pid}`);
    await mkdir(orphan, { recursive: true });
    await writeFile(join(orphan, '.data-dir'), join(parent, 'gone'));
    p = await PlatformProcess.start(dataDir, ['--config', await nodeOnlyConfig(parent)]);
    runtimeDir = (await readFile(join(dataDir, 'runtime-dir'), 'utf8')).trim();
    expect(runtimeDir.startsWith(`${SHARED_RUNTIME_ROOT}/`), runtimeDir).to.equal(true);
    expect(existsSync(orphan), 'orphaned runtime dir swept').to.equal(false);
    await p.ok(['apps:create', 'shy']);
    await p.ok(['deploy', await fixtureCopy('hello'), '-a', 'shy'], 180_000);
    expect((await p.get('shy')).status).to.equal(200);
    expect((await stat(parent)).mode & 0o777).to.equal(0o700);
    expect((await stat(dataDir)).mode & 0o777).to.equal(0o711);
    const uids = () => readFile(join(dataDir, 'app-uids.json'), 'utf8').then((t) => JSON.parse(t));
    const first = (await uids()).apps.shy as number;
    expect((await stat(join(runtimeDir, 'apps', 'shy'))).gid).to.equal(first);

    await p.ok(['apps:destroy', '-a', 'shy', '--confirm', 'shy']);
    await stat(join(runtimeDir, 'apps', 'shy')).then(
      () => expect.fail('the app dir outlived the app'),
      () => {},
    );
    expect((await uids()).retired).to.include(first);
    await p.ok(['apps:create', 'shy']);
    await p.ok(['deploy', await fixtureCopy('hello'), '-a', 'shy'], 180_000);
    expect((await uids()).apps.shy).to.not.equal(first);
  });
});
