/**
 * Migrations of a family of tables that keeps its own list (accounts, certificates) beside the
 * state store's main one, so that features can add tables without taking numbers from each
 * other. Append only: each entry runs once, in its own transaction, recorded in `<name>`.
 */
import type Database from 'better-sqlite3';

/** Apply the entries of `steps` not yet recorded in the `name` table. */
export function migrateTables(db: Database.Database, name: string, steps: readonly string[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${name} (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`);
  const done = (db.prepare(`SELECT MAX(version) AS v FROM ${name}`).get() as { v: number | null }).v ?? 0;
  steps.forEach((sql, i) => {
    if (i + 1 <= done) return;
    db.transaction(() => {
      db.exec(sql);
      db.prepare(`INSERT INTO ${name} VALUES (?, ?)`).run(i + 1, new Date().toISOString());
    })();
  });
}
