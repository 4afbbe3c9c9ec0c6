/** The app setup plugin's table on a real SQLite state store: postdeploy records across a reopen. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { SqliteStateStore } from '../state/sqlite-state-store.js';
import { migrateTables } from '../state/table-migrations.js';
import { AppSetupTable, appSetupMigrations } from './app-setup-table.js';

describe('AppSetupTable', () => {
  let dir: string;
  let store: SqliteStateStore;
  let setups: AppSetupTable;
  // The state store with the plugin's migrations, as the platform opens it.
  const open = () => {
    const s = new SqliteStateStore(join(dir, 'state.db'));
    migrateTables(s.db, 'app_setup_migrations', appSetupMigrations);
    return s;
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-setups-'));
    store = open();
    setups = new AppSetupTable(store.db);
  });
  afterEach(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a pending postdeploy across a reopen, hands it out once, and records how it ended', () => {
    const a = store.createApp('setup');
    setups.setPostdeploy(a.id, 'echo hi');
    store.close();
    store = open();
    setups = new AppSetupTable(store.db);
    expect(setups.pending(a.id)).to.equal('echo hi');
    expect(setups.claim(a.id)).to.equal('echo hi');
    expect(setups.claim(a.id)).to.equal(undefined);
    expect(setups.pending(a.id)).to.equal(undefined);
    setups.finish(a.id, 3, 'hi');
    expect(setups.get(a.id)?.postdeploy).to.deep.equal({
      command: 'echo hi',
      status: 'failed',
      exitCode: 3,
      output: 'hi',
    });

    // One left running by a killed platform is failed, not handed out again.
    const b = store.createApp('setup-two');
    setups.setPostdeploy(b.id, 'echo two');
    setups.claim(b.id);
    expect(setups.failInterrupted()).to.equal(1);
    expect(setups.get(b.id)?.postdeploy).to.include({ status: 'failed', exitCode: null });
    expect(setups.claim(b.id)).to.equal(undefined);
    store.deleteApp('setup-two');
    expect(setups.get(b.id)).to.equal(undefined);
  });
});
