/** The domains and drains tables: custom host names routed to apps, and log drains. */
import { randomUUID } from 'node:crypto';
import { runtimeErrors } from '../errors.js';
import type { DomainRecord, DrainRecord } from './records.js';
import { ReleasesState } from './releases-state.js';
import { now, type Row } from './store-base.js';

/** SQLite state: the domains and drains layer. */
export class DomainsDrainsState extends ReleasesState {
  /** Route a custom host name to an app. */
  addDomain(appId: string, hostname: string): DomainRecord {
    const id = randomUUID();
    try {
      this.db
        .prepare('INSERT INTO domains (id, app_id, hostname, created_at) VALUES (?, ?, ?, ?)')
        .run(id, appId, hostname, now());
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DOMAIN({ hostname, detail: 'is already taken' });
      throw e;
    }
    return { id, appId, hostname, createdAt: now() };
  }

  /** Custom domains of an app, or of every app. */
  domains(appId?: string): DomainRecord[] {
    const rows = (
      appId
        ? this.db.prepare('SELECT * FROM domains WHERE app_id = ? ORDER BY hostname').all(appId)
        : this.db.prepare('SELECT * FROM domains').all()
    ) as Row[];
    return rows.map((r) => ({ id: r.id, appId: r.app_id, hostname: r.hostname, createdAt: r.created_at }));
  }

  /** Remove a custom domain; false when the app had no such domain. */
  removeDomain(appId: string, hostnameOrId: string): boolean {
    return (
      this.db
        .prepare('DELETE FROM domains WHERE app_id = ? AND (hostname = ? OR id = ?)')
        .run(appId, hostnameOrId, hostnameOrId).changes > 0
    );
  }

  /** Add a log drain. */
  addDrain(appId: string, url: string): DrainRecord {
    const d = { id: randomUUID(), appId, url, token: `d.${randomUUID()}`, createdAt: now() };
    this.db
      .prepare('INSERT INTO drains (id, app_id, url, token, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(d.id, appId, url, d.token, d.createdAt);
    return d;
  }

  /** Log drains of an app, or of every app. */
  drains(appId?: string): DrainRecord[] {
    return (
      (appId
        ? this.db.prepare('SELECT * FROM drains WHERE app_id = ? ORDER BY created_at').all(appId)
        : this.db.prepare('SELECT * FROM drains ORDER BY created_at').all()) as Row[]
    ).map((r) => ({
      id: r.id,
      appId: r.app_id,
      url: r.url,
      token: r.token,
      createdAt: r.created_at,
    }));
  }

  /** Remove a log drain by id or URL. */
  removeDrain(appId: string, idOrUrl: string): boolean {
    return (
      this.db
        .prepare('DELETE FROM drains WHERE app_id = ? AND (id = ? OR url = ?)')
        .run(appId, idOrUrl, idOrUrl).changes > 0
    );
  }
}
