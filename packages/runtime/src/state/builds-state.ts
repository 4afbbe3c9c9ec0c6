/** The slugs and builds tables: slug metadata (shared by checksum), builds and their output. */
import { randomUUID } from 'node:crypto';
import { AppsState } from './apps-state.js';
import type { BuildRecord, SlugRecord, Status } from './records.js';
import { json, now, type Row } from './store-base.js';

const toBuild = (r: Row): BuildRecord => ({
  id: r.id,
  appId: r.app_id,
  status: r.status,
  slug: r.slug,
  releaseVersion: r.release_version,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** SQLite state: the slugs and builds layer. */
export class BuildsState extends AppsState {
  // --- slugs ----------------------------------------------------------------------------------

  /** Record slug metadata (idempotent on checksum: same bytes, same slug). */
  putSlug(s: Omit<SlugRecord, 'createdAt'>): SlugRecord {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO slugs (checksum, size, process_types, buildpacks, stack, app_json, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.checksum,
        s.size,
        JSON.stringify(s.processTypes),
        JSON.stringify(s.buildpacks),
        s.stack,
        s.appJson ? JSON.stringify(s.appJson) : null,
        now(),
      );
    return this.slug(s.checksum) as SlugRecord;
  }

  /** Slug metadata, or undefined. */
  slug(checksum: string): SlugRecord | undefined {
    const r = this.db.prepare('SELECT * FROM slugs WHERE checksum = ?').get(checksum) as Row | undefined;
    if (!r) return undefined;
    return {
      checksum: r.checksum,
      size: r.size,
      processTypes: json(r.process_types, {}),
      buildpacks: json(r.buildpacks, []),
      stack: r.stack,
      appJson: json(r.app_json, undefined),
      createdAt: r.created_at,
    };
  }

  /** Checksums of the slugs an app's builds and releases use. */
  appSlugs(appId: string): string[] {
    return (
      this.db
        .prepare(
          `SELECT slug FROM releases WHERE app_id = ? AND slug IS NOT NULL
           UNION SELECT slug FROM builds WHERE app_id = ? AND slug IS NOT NULL`,
        )
        .all(appId, appId) as Row[]
    ).map((r) => r.slug as string);
  }

  /** Forget a slug's metadata unless a build or release still uses it; true when forgotten. */
  removeSlugIfUnused(checksum: string): boolean {
    // One statement, so a release made meanwhile cannot lose the slug it points at.
    return (
      this.db
        .prepare(
          `DELETE FROM slugs WHERE checksum = ?
           AND NOT EXISTS (SELECT 1 FROM releases WHERE slug = ?)
           AND NOT EXISTS (SELECT 1 FROM builds WHERE slug = ?)`,
        )
        .run(checksum, checksum, checksum).changes > 0
    );
  }

  // --- builds ---------------------------------------------------------------------------------

  /** Start a build record (status pending). */
  createBuild(appId: string): BuildRecord {
    const id = randomUUID();
    const t = now();
    this.db
      .prepare(
        "INSERT INTO builds (id, app_id, status, created_at, updated_at) VALUES (?, ?, 'pending', ?, ?)",
      )
      .run(id, appId, t, t);
    return this.build(id) as BuildRecord;
  }

  /** Finish a build: status, slug, its output, and the release it made. */
  finishBuild(
    id: string,
    r: {
      status: Exclude<Status, 'pending'>;
      slug?: string;
      error?: string;
      output?: string;
      releaseVersion?: number;
    },
  ): BuildRecord {
    this.db
      .prepare(
        'UPDATE builds SET status = ?, slug = ?, error = ?, output = ?, release_version = ?, updated_at = ? WHERE id = ?',
      )
      .run(r.status, r.slug ?? null, r.error ?? null, r.output ?? '', r.releaseVersion ?? null, now(), id);
    return this.build(id) as BuildRecord;
  }

  /** A build by id. */
  build(id: string): BuildRecord | undefined {
    const r = this.db.prepare('SELECT * FROM builds WHERE id = ?').get(id) as Row | undefined;
    return r && toBuild(r);
  }

  /** The stored output of a finished build. */
  buildOutput(id: string): string {
    return (
      ((this.db.prepare('SELECT output FROM builds WHERE id = ?').get(id) as Row | undefined)
        ?.output as string) ?? ''
    );
  }

  /** Builds of an app, oldest first. */
  listBuilds(appId: string): BuildRecord[] {
    return (
      this.db.prepare('SELECT * FROM builds WHERE app_id = ? ORDER BY created_at, rowid').all(appId) as Row[]
    ).map(toBuild);
  }
}
