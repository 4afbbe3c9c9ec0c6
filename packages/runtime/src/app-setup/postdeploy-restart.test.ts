/**
 * A pending `scripts.postdeploy` outlives a platform restart: an app set up from app.json on
 * one `slipway start` process, SIGKILLed before the first deploy, gets its postdeploy run
 * exactly once by the next process after the first release, and the exit status and output
 * are kept in the app's setup record.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  eventually,
  fixtureCopy,
  nodeOnlyConfig,
  PlatformProcess,
  removeFixtureCopies,
} from '../platform-harness.test-helper.js';
import { SqliteStateStore } from '../state/sqlite-state-store.js';
import { AppSetupTable } from './app-setup-table.js';

describe('postdeploy across a platform restart (real slipway start processes)', function () {
  this.timeout(300_000);
  let dir: string;
  let dataDir: string;
  let args: string[];
  let p: PlatformProcess | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-postdeploy-'));
    await chmod(dir, 0o755); // dynos run as nobody when the tests run as root
    dataDir = join(dir, 'data');
    args = ['--config', await nodeOnlyConfig(dir)];
  });
  after(async () => {
    await p?.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  const logs = async (q: PlatformProcess) => q.ok(['logs', '-a', 'later', '-n', '1500']);

  it('runs a postdeploy set up before a SIGKILL exactly once, after the first release of the next process', async () => {
    const manifest = join(dir, 'app.json');
    await writeFile(
      manifest,
      JSON.stringify({
        env: { GREETING: { required: true } },
        // A failing script: its status is recorded and it is not retried on the next release.
        scripts: {
          postdeploy: `node -e "console.log('postdeploy ran for ' + process.env.GREETING); process.exit(3)"`,
        },
      }),
    );
    const first = await PlatformProcess.start(dataDir, args);
    p = first;
    await first.ok(['apps:create', 'later', '--manifest', manifest, '--env', 'GREETING=ahoy']);
    await first.kill('SIGKILL');

    const second = await PlatformProcess.start(dataDir, args);
    p = second;
    const src = await fixtureCopy('hello', { VERSION: 'later-1' });
    expect(await second.ok(['deploy', src, '-a', 'later'])).to.match(/Deployed later v\d+/);
    expect(
      await eventually(async () => /Postdeploy script exited with status 3/.test(await logs(second)), 30_000),
    ).to.be.true;
    const text = await logs(second);
    expect(text).to.match(/app\[postdeploy\.\d+\]: postdeploy ran for ahoy/);

    // A second deploy, and a config-only release, do not run it again.
    await second.ok(['deploy', src, '-a', 'later']);
    await second.ok(['config:set', 'OTHER=1', '-a', 'later']);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await logs(second)).match(/Running postdeploy script/g)).to.have.length(1);
    expect((await logs(second)).match(/app\[postdeploy\.\d+\]: postdeploy ran for/g)).to.have.length(1);
    await second.kill('SIGTERM');
    p = undefined;

    const state = new SqliteStateStore(join(dataDir, 'state.db'));
    try {
      const setup = new AppSetupTable(state.db).get(state.app('later').id);
      expect(setup?.postdeploy).to.deep.include({ status: 'failed', exitCode: 3 });
      expect(setup?.postdeploy.output).to.equal('postdeploy ran for ahoy');
    } finally {
      state.close();
    }
  });
});
