/**
 * The domains table: custom host names routed to apps (the router and certificates read it too).
 * Log drains are the drains plugin's (drains/drain-table.ts).
 */
import { randomUUID } from 'node:crypto';
import { runtimeErrors } from '../errors.js';
import type { DomainRecord } from './records.js';
import { ReleasesState } from './releases-state.js';
import { now, type Row } from './store-base.js';

/** SQLite state: the domains layer. */
export class DomainsState extends ReleasesState {
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
}
