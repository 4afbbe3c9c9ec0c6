/** The drains plugin's table on a real SQLite state store: its migrations, cascade and adoption. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { SqliteStateStore } from '../state/sqlite-state-store.js';
import { migrateTables } from '../state/table-migrations.js';
import { DrainTable, drainMigrations } from './drain-table.js';

describe('DrainTable', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-drains-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('exists only once its migrations ran; keeps drains per app and deletes them with the app', () => {
    const store = new SqliteStateStore(join(dir, 'state.db'));
    try {
      const has = () => !!store.db.prepare("SELECT name FROM sqlite_master WHERE name = 'drains'").get();
      expect(has(), 'the state store alone has no drains table').to.equal(false);
      migrateTables(store.db, 'drains_migrations', drainMigrations);
      expect(has()).to.equal(true);
      const table = new DrainTable(store.db);
      const a = store.createApp('drained');
      const b = store.createApp('other');
      const d = table.add(a.id, 'https://logs.example.com/x');
      table.add(b.id, 'syslog://logs.example.com:514');
      expect(d.token).to.match(/^d\./);
      expect(table.list(a.id).map((x) => x.url)).to.deep.equal(['https://logs.example.com/x']);
      expect(table.list()).to.have.length(2);
      expect(table.remove(a.id, 'https://logs.example.com/nope')).to.equal(false);
      store.deleteApp('drained');
      expect(table.list().map((x) => x.appId)).to.deep.equal([b.id]);
    } finally {
      store.close();
    }
  });

  it('adopts the drains table of a data dir made before the plugin owned it', () => {
    const file = join(dir, 'state.db');
    const old = new SqliteStateStore(file);
    // What the state store's first migration created then, with a row in it.
    old.db.exec(
      'CREATE TABLE drains (id TEXT PRIMARY KEY, app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE, url TEXT NOT NULL, token TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (app_id, url))',
    );
    const a = old.createApp('kept');
    old.db
      .prepare(
        "INSERT INTO drains VALUES ('d1', ?, 'https://logs.example.com/k', 'd.t', '2026-01-01T00:00:00Z')",
      )
      .run(a.id);
    old.close();
    const store = new SqliteStateStore(file);
    try {
      migrateTables(store.db, 'drains_migrations', drainMigrations);
      expect(new DrainTable(store.db).list(a.id).map((d) => d.id)).to.deep.equal(['d1']);
    } finally {
      store.close();
    }
  });
});
