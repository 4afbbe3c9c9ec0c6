/**
 * The `release_outputs` table: what a release's release phase printed (`releases:output`),
 * bounded by the writer, one row per release, gone with the release.
 */
import type Database from 'better-sqlite3';

/** Release phase output of the state store. */
export class ReleaseOutputTable {
  constructor(private readonly db: Database.Database) {}

  /** Store (or replace) the output of release `releaseId`. */
  set(releaseId: string, output: string): void {
    this.db
      .prepare('INSERT OR REPLACE INTO release_outputs (release_id, output) VALUES (?, ?)')
      .run(releaseId, output);
  }

  /** The output of release `releaseId`, or undefined when it had no release phase. */
  get(releaseId: string): string | undefined {
    const r = this.db.prepare('SELECT output FROM release_outputs WHERE release_id = ?').get(releaseId) as
      | { output: string }
      | undefined;
    return r?.output;
  }
}
