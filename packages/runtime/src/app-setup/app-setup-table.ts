/**
 * The `app_setups` table, owned by the app setup plugin (its migrations, `app_setup_migrations`):
 * an app's pending `scripts.postdeploy` and, once run, its exit status and output. Kept in SQLite
 * (not memory) so a platform restart between app setup and the first release does not forget
 * the script; claiming it is one UPDATE, so it runs at most once. A data dir from before the
 * table moved here has it from the state store's second migration; the first step adopts it.
 */
import type Database from 'better-sqlite3';
import type { AppSetupRecord } from '../state/records.js';
import { now, type Row } from '../state/store-base.js';

/** The app setup plugin's migrations, append only. */
export const appSetupMigrations: readonly string[] = [
  // Heroku's app-setup record keeps `postdeploy: { exit_code, output }`; here one row per app
  // set up from an app.json with `scripts.postdeploy`.
  `CREATE TABLE IF NOT EXISTS app_setups (
     app_id TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
     postdeploy TEXT NOT NULL,
     postdeploy_status TEXT NOT NULL
       CHECK (postdeploy_status IN ('pending', 'running', 'succeeded', 'failed')),
     postdeploy_exit_code INTEGER,
     postdeploy_output TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   )`,
];

const toSetup = (r: Row): AppSetupRecord => ({
  appId: r.app_id,
  postdeploy: {
    command: r.postdeploy,
    status: r.postdeploy_status,
    exitCode: r.postdeploy_exit_code,
    output: r.postdeploy_output,
  },
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** App setup records (postdeploy scripts) of the state store. */
export class AppSetupTable {
  constructor(private readonly db: Database.Database) {}

  /** Record `command` as the app's postdeploy, to run after its first release with code. */
  setPostdeploy(appId: string, command: string): AppSetupRecord {
    const t = now();
    this.db
      .prepare(
        `INSERT INTO app_setups (app_id, postdeploy, postdeploy_status, created_at, updated_at)
         VALUES (?, ?, 'pending', ?, ?)
         ON CONFLICT (app_id) DO UPDATE SET postdeploy = excluded.postdeploy,
           postdeploy_status = 'pending', postdeploy_exit_code = NULL, postdeploy_output = NULL,
           updated_at = excluded.updated_at`,
      )
      .run(appId, command, t, t);
    return this.get(appId) as AppSetupRecord;
  }

  /** The app's setup record, or undefined (no app.json postdeploy). */
  get(appId: string): AppSetupRecord | undefined {
    const r = this.db.prepare('SELECT * FROM app_setups WHERE app_id = ?').get(appId) as Row | undefined;
    return r && toSetup(r);
  }

  /** The postdeploy command still waiting for the app's first release, if any. */
  pending(appId: string): string | undefined {
    const r = this.get(appId);
    return r?.postdeploy.status === 'pending' ? r.postdeploy.command : undefined;
  }

  /** Take the pending postdeploy (it becomes `running`); undefined when there is none to run. */
  claim(appId: string): string | undefined {
    const r = this.db
      .prepare(
        `UPDATE app_setups SET postdeploy_status = 'running', updated_at = ?
         WHERE app_id = ? AND postdeploy_status = 'pending' RETURNING postdeploy`,
      )
      .get(now(), appId) as Row | undefined;
    return r?.postdeploy;
  }

  /** Record how the postdeploy ended: exit 0 is `succeeded`, anything else `failed`. */
  finish(appId: string, exitCode: number | null, output: string): void {
    this.db
      .prepare(
        `UPDATE app_setups SET postdeploy_status = ?, postdeploy_exit_code = ?, postdeploy_output = ?,
           updated_at = ? WHERE app_id = ?`,
      )
      .run(exitCode === 0 ? 'succeeded' : 'failed', exitCode, output, now(), appId);
  }

  /** A postdeploy a killed platform left `running` is failed (not run again: it may have acted). */
  failInterrupted(): number {
    return this.db
      .prepare(
        `UPDATE app_setups SET postdeploy_status = 'failed',
           postdeploy_output = 'interrupted: the platform stopped while the postdeploy script ran',
           updated_at = ? WHERE postdeploy_status = 'running'`,
      )
      .run(now()).changes;
  }
}
