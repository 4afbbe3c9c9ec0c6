/**
 * The bottom layer of the SQLite state store: the database file (better-sqlite3, WAL), its
 * pragmas and migrations, transactions. Every write is a committed transaction before the call
 * returns, and `synchronous=FULL` makes a commit durable across a power cut too (a SIGKILL of the
 * platform alone cannot lose a WAL commit). The layers above each own one domain's statements.
 */
import Database from 'better-sqlite3';
import { migrations } from './migrations.js';

/** A row as better-sqlite3 returns it: its columns are the SQL's, typed where the row is read. */
// biome-ignore lint/suspicious/noExplicitAny: the database boundary, one declaration for every table's rows
export type Row = Record<string, any>;
/** The time stamp stored in every `*_at` column. */
export const now = (): string => new Date().toISOString();
/** A JSON column's value, or `dflt` when empty. */
export const json = <T>(s: string | null | undefined, dflt: T): T => (s ? (JSON.parse(s) as T) : dflt);

/** The database and its migrations; see SqliteStateStore for the whole store. */
export class StateStoreBase {
  /** The open database (exposed for tests and diagnostics). */
  readonly db: Database.Database;

  /** Open (creating if needed) the database file and apply pending migrations. */
  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  private migrate(): void {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const done = new Set(
      (this.db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map(
        (r) => r.version as number,
      ),
    );
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, now());
      })();
    }
  }

  /** Schema version now applied. */
  get schemaVersion(): number {
    return (this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as Row).v ?? 0;
  }

  /** Run `fn` in one transaction (nested calls join the outer one). */
  transaction<R>(fn: () => R): R {
    return this.db.transaction(fn)();
  }

  /** Close the database (idempotent). */
  close(): void {
    if (this.db.open) this.db.close();
  }
}
