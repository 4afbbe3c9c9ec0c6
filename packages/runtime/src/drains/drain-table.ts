/**
 * The `drains` table, owned by the drains plugin (its migrations, `drains_migrations`): log
 * drains per app, deleted with the app. A data dir from before the table moved here has it from
 * the state store's first migration; the first step adopts it as it is.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { DrainRecord } from '../state/records.js';

/** The drains plugin's migrations, append only. */
export const drainMigrations: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS drains (
     id TEXT PRIMARY KEY,
     app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
     url TEXT NOT NULL,
     token TEXT NOT NULL,
     created_at TEXT NOT NULL,
     UNIQUE (app_id, url)
   )`,
];

type Row = Record<string, string>;
const toDrain = (r: Row): DrainRecord => ({
  id: r.id as string,
  appId: r.app_id as string,
  url: r.url as string,
  token: r.token as string,
  createdAt: r.created_at as string,
});

/** Log drains in the state store's database. */
export class DrainTable {
  constructor(private readonly db: Database.Database) {}

  /** Add a log drain. */
  add(appId: string, url: string): DrainRecord {
    const d = {
      id: randomUUID(),
      appId,
      url,
      token: `d.${randomUUID()}`,
      createdAt: new Date().toISOString(),
    };
    this.db
      .prepare('INSERT INTO drains (id, app_id, url, token, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(d.id, appId, url, d.token, d.createdAt);
    return d;
  }

  /** Log drains of an app, or of every app. */
  list(appId?: string): DrainRecord[] {
    return (
      (appId
        ? this.db.prepare('SELECT * FROM drains WHERE app_id = ? ORDER BY created_at').all(appId)
        : this.db.prepare('SELECT * FROM drains ORDER BY created_at').all()) as Row[]
    ).map(toDrain);
  }

  /** Remove a log drain by id or URL; false when the app had no such drain. */
  remove(appId: string, idOrUrl: string): boolean {
    return (
      this.db
        .prepare('DELETE FROM drains WHERE app_id = ? AND (id = ? OR url = ?)')
        .run(appId, idOrUrl, idOrUrl).changes > 0
    );
  }
}
