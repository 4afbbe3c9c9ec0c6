/** The apps table: names (Heroku's rule), renames, pinned buildpacks, maintenance, deletion. */
import { randomUUID } from 'node:crypto';
import { runtimeErrors } from '../errors.js';
import { generateAppName } from './app-names.js';
import type { AppRecord } from './records.js';
import { json, now, type Row, StateStoreBase } from './store-base.js';

/** Allow-list of app names (Heroku's rule, 30 characters at most). */
export const APP_NAME = /^[a-z][a-z0-9-]{1,29}$/;

/** Throw the coded error unless `name` is a valid app name. */
export function assertAppName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !APP_NAME.test(name))
    throw runtimeErrors.SLIPWAY_ERR_RUNTIME_APP_NAME({ name: String(name).slice(0, 60) });
}

const toApp = (r: Row): AppRecord => ({
  id: r.id,
  name: r.name,
  buildpacks: json(r.buildpacks, []),
  maintenance: !!r.maintenance,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** SQLite state: the apps layer (SqliteStateStore stacks the other domains on it). */
export class AppsState extends StateStoreBase {
  // --- apps -----------------------------------------------------------------------------------

  /** Create an app; refuses bad and taken names. Without a name, one is generated (Heroku's form). */
  createApp(name?: string): AppRecord {
    if (name === undefined) {
      // A generated name that is taken is simply drawn again (10^4 numbers per word pair).
      for (let i = 0; ; i++) {
        const candidate = generateAppName();
        if (!this.findApp(candidate) || i >= 20) return this.createApp(candidate);
      }
    }
    assertAppName(name);
    const t = now();
    try {
      this.db
        .prepare('INSERT INTO apps (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)')
        .run(randomUUID(), name, t, t);
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_APP_EXISTS({ name });
      throw e;
    }
    return this.app(name);
  }

  /** Give an app a new name (its id, and so its repository, cache and add-ons, stay). */
  renameApp(name: string, newName: string): AppRecord {
    const a = this.app(name);
    assertAppName(newName);
    try {
      this.db.prepare('UPDATE apps SET name = ?, updated_at = ? WHERE id = ?').run(newName, now(), a.id);
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_APP_EXISTS({ name: newName });
      throw e;
    }
    return this.app(a.id);
  }

  /** The app by name (or id), or undefined. */
  findApp(nameOrId: string): AppRecord | undefined {
    const r = this.db.prepare('SELECT * FROM apps WHERE name = ? OR id = ?').get(nameOrId, nameOrId) as
      | Row
      | undefined;
    return r && toApp(r);
  }

  /** The app, or a 404 error. */
  app(nameOrId: string): AppRecord {
    const a = this.findApp(nameOrId);
    if (!a) throw runtimeErrors.SLIPWAY_ERR_RUNTIME_APP_NOT_FOUND({ name: String(nameOrId).slice(0, 60) });
    return a;
  }

  /** All apps by name. */
  listApps(): AppRecord[] {
    return (this.db.prepare('SELECT * FROM apps ORDER BY name').all() as Row[]).map(toApp);
  }

  /** Delete an app and everything it owns (its slugs stay until `SlugCollector` collects them). */
  deleteApp(name: string): AppRecord {
    const a = this.app(name);
    this.db.prepare('DELETE FROM apps WHERE id = ?').run(a.id);
    return a;
  }

  /** Pin buildpacks or toggle maintenance. */
  updateApp(name: string, changes: { buildpacks?: string[]; maintenance?: boolean }): AppRecord {
    const a = this.app(name);
    this.db
      .prepare('UPDATE apps SET buildpacks = ?, maintenance = ?, updated_at = ? WHERE id = ?')
      .run(
        JSON.stringify(changes.buildpacks ?? a.buildpacks),
        (changes.maintenance ?? a.maintenance) ? 1 : 0,
        now(),
        a.id,
      );
    return this.app(a.id);
  }
}
