/**
 * The releases, config vars and formation tables: numbered releases, the config a release
 * snapshots, process types' quantity and size, and the repair after a killed platform.
 */
import { randomUUID } from 'node:crypto';
import { BuildsState } from './builds-state.js';
import type { FormationRecord, ReleaseRecord, Status } from './records.js';
import { json, now, type Row } from './store-base.js';

const toRelease = (r: Row): ReleaseRecord => ({
  id: r.id,
  appId: r.app_id,
  version: r.version,
  description: r.description,
  status: r.status,
  slug: r.slug,
  config: json(r.config, {}),
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** SQLite state: the releases, config vars and formation layer. */
export class ReleasesState extends BuildsState {
  /**
   * Mark builds and releases left pending by a killed platform as failed, and give each app
   * whose release was interrupted the config of its live release back: a change (config:set,
   * rollback, buildpack defaults) writes the config with its release, before the release goes
   * live, so after a crash the config shown must be the one that serves. An app with no live
   * release keeps its config (nothing serves that could disagree with it).
   */
  failInterrupted(): { builds: number; releases: number } {
    const t = now();
    return this.transaction(() => {
      const apps = (
        this.db.prepare("SELECT DISTINCT app_id FROM releases WHERE status = 'pending'").all() as Row[]
      ).map((r) => r.app_id as string);
      const builds = this.db
        .prepare(
          "UPDATE builds SET status = 'failed', error = 'platform restarted during the build', updated_at = ? WHERE status = 'pending'",
        )
        .run(t).changes;
      const releases = this.db
        .prepare(
          "UPDATE releases SET status = 'failed', error = 'platform restarted before it went live', updated_at = ? WHERE status = 'pending'",
        )
        .run(t).changes;
      for (const app of apps) {
        const live = this.currentRelease(app);
        if (live) this.replaceConfig(app, live.config);
      }
      return { builds, releases };
    });
  }

  // --- releases -------------------------------------------------------------------------------

  /** Add release v(N+1) of an app; call inside a transaction with the change that caused it. */
  createRelease(
    appId: string,
    r: { description: string; slug: string | null; config: Record<string, string>; status?: Status },
  ): ReleaseRecord {
    const id = randomUUID();
    const t = now();
    const next =
      ((this.db.prepare('SELECT MAX(version) AS v FROM releases WHERE app_id = ?').get(appId) as Row).v ??
        0) + 1;
    this.db
      .prepare(
        'INSERT INTO releases (id, app_id, version, description, status, slug, config, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(id, appId, next, r.description, r.status ?? 'pending', r.slug, JSON.stringify(r.config), t, t);
    return this.release(appId, next) as ReleaseRecord;
  }

  /** Mark a release succeeded (live) or failed. */
  setReleaseStatus(appId: string, version: number, status: Status, error?: string): ReleaseRecord {
    this.db
      .prepare('UPDATE releases SET status = ?, error = ?, updated_at = ? WHERE app_id = ? AND version = ?')
      .run(status, error ?? null, now(), appId, version);
    return this.release(appId, version) as ReleaseRecord;
  }

  /** Release vN of an app. */
  release(appId: string, version: number): ReleaseRecord | undefined {
    const r = this.db
      .prepare('SELECT * FROM releases WHERE app_id = ? AND version = ?')
      .get(appId, version) as Row | undefined;
    return r && toRelease(r);
  }

  /** A release by id (uuid). */
  releaseById(id: string): ReleaseRecord | undefined {
    const r = this.db.prepare('SELECT * FROM releases WHERE id = ?').get(id) as Row | undefined;
    return r && toRelease(r);
  }

  /** Releases of an app, v1 first. */
  listReleases(appId: string): ReleaseRecord[] {
    return (
      this.db.prepare('SELECT * FROM releases WHERE app_id = ? ORDER BY version').all(appId) as Row[]
    ).map(toRelease);
  }

  /** The live release: the newest that succeeded. */
  currentRelease(appId: string): ReleaseRecord | undefined {
    const r = this.db
      .prepare(
        "SELECT * FROM releases WHERE app_id = ? AND status = 'succeeded' ORDER BY version DESC LIMIT 1",
      )
      .get(appId) as Row | undefined;
    return r && toRelease(r);
  }

  // --- config vars ----------------------------------------------------------------------------

  /** Config vars of an app. */
  config(appId: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.db
      .prepare('SELECT key, value FROM config_vars WHERE app_id = ? ORDER BY key')
      .all(appId) as Row[])
      out[r.key] = r.value;
    return out;
  }

  /** Replace the whole config (rollback restores a snapshot). */
  replaceConfig(appId: string, config: Record<string, string>): void {
    this.transaction(() => {
      this.db.prepare('DELETE FROM config_vars WHERE app_id = ?').run(appId);
      const ins = this.db.prepare('INSERT INTO config_vars (app_id, key, value) VALUES (?, ?, ?)');
      for (const [k, v] of Object.entries(config)) ins.run(appId, k, v);
    });
  }

  // --- formation ------------------------------------------------------------------------------

  /** Formation of an app by type. */
  formation(appId: string): FormationRecord[] {
    return (
      this.db.prepare('SELECT * FROM formation WHERE app_id = ? ORDER BY type').all(appId) as Row[]
    ).map((r) => ({
      type: r.type,
      quantity: r.quantity,
      size: r.size,
      updatedAt: r.updated_at,
    }));
  }

  /** Set quantity and/or size of process types (creating rows as needed). */
  setFormation(
    appId: string,
    updates: { type: string; quantity?: number; size?: string }[],
    defaultSize: string,
  ): void {
    const t = now();
    this.transaction(() => {
      const get = this.db.prepare('SELECT * FROM formation WHERE app_id = ? AND type = ?');
      const put = this.db.prepare(
        'INSERT INTO formation (app_id, type, quantity, size, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (app_id, type) DO UPDATE SET quantity = excluded.quantity, size = excluded.size, updated_at = excluded.updated_at',
      );
      for (const u of updates) {
        const cur = get.get(appId, u.type) as Row | undefined;
        put.run(appId, u.type, u.quantity ?? cur?.quantity ?? 0, u.size ?? cur?.size ?? defaultSize, t);
      }
    });
  }
}
