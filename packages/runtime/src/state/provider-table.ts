/**
 * The `addon_providers` table: remote add-on providers registered through the API, kept so that
 * a restarted platform registers them again. The config (manifest, URL, credentials) is stored
 * as given; the state file is the platform's alone (0600 in a 0700 data dir).
 */
import type Database from 'better-sqlite3';
import type { ProviderInput } from '../addons/provider-registry.js';

/** One registered provider. */
export interface ProviderRow {
  name: string;
  kind: ProviderInput['kind'];
  config: ProviderInput;
  createdAt: string;
}

type Row = { name: string; kind: ProviderRow['kind']; config: string; created_at: string };
const toRow = (r: Row): ProviderRow => ({
  name: r.name,
  kind: r.kind,
  config: JSON.parse(r.config),
  createdAt: r.created_at,
});

/** Registered remote providers of the state store. */
export class ProviderTable {
  constructor(private readonly db: Database.Database) {}

  /** All of them, oldest first (the order they are registered again at start). */
  list(): ProviderRow[] {
    return (this.db.prepare('SELECT * FROM addon_providers ORDER BY created_at, name').all() as Row[]).map(
      toRow,
    );
  }

  /** One by name. */
  get(name: string): ProviderRow | undefined {
    const r = this.db.prepare('SELECT * FROM addon_providers WHERE name = ?').get(name) as Row | undefined;
    return r && toRow(r);
  }

  /** Add one. */
  put(row: ProviderRow): void {
    this.db
      .prepare('INSERT INTO addon_providers (name, kind, config, created_at) VALUES (?, ?, ?, ?)')
      .run(row.name, row.kind, JSON.stringify(row.config), row.createdAt);
  }

  /** Remove one (no-op when absent). */
  remove(name: string): void {
    this.db.prepare('DELETE FROM addon_providers WHERE name = ?').run(name);
  }
}
