/**
 * The default StateStore: one SQLite file in the data dir. The store is a stack of layers, one
 * file per domain, each owning its tables' statements (store-base.ts: the file, pragmas,
 * migrations; apps-state.ts; builds-state.ts: slugs and builds; releases-state.ts: releases,
 * config vars, formation; domains-state.ts); this file adds the add-ons and API tokens
 * and the tables kept as objects of their own (release outputs, providers).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { StateStore } from '@slipway/core';
import { DomainsState } from './domains-state.js';
import { ProviderTable } from './provider-table.js';
import type { AddonRecord } from './records.js';
import { ReleaseOutputTable } from './release-output-table.js';
import { json, now, type Row } from './store-base.js';

export { APP_NAME, assertAppName } from './apps-state.js';

const toAddon = (r: Row): AddonRecord => ({
  id: r.id,
  appId: r.app_id,
  service: r.service,
  plan: r.plan,
  name: r.name,
  providerId: r.provider_id,
  configVars: json(r.config_vars, []),
  createdAt: r.created_at,
  ...(r.owner_id ? { ownerId: r.owner_id } : {}),
});

/** SQLite implementation of the platform state. */
export class SqliteStateStore extends DomainsState implements StateStore {
  /** What each release phase printed. */
  readonly releaseOutputs: ReleaseOutputTable;
  /** Remote add-on providers registered through the API. */
  readonly providers: ProviderTable;

  /** Open (creating if needed) the database file and apply pending migrations. */
  constructor(file: string) {
    super(file);
    this.releaseOutputs = new ReleaseOutputTable(this.db);
    this.providers = new ProviderTable(this.db);
  }

  // --- add-ons --------------------------------------------------------------------------------

  /** Record an attached add-on (`ownerId`: an attachment of that other add-on row). */
  addAddon(a: Omit<AddonRecord, 'createdAt'>): AddonRecord {
    const rec = { ...a, createdAt: now() };
    this.db
      .prepare(
        'INSERT INTO addons (id, app_id, service, plan, name, provider_id, config_vars, created_at, owner_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        a.id,
        a.appId,
        a.service,
        a.plan,
        a.name,
        a.providerId,
        JSON.stringify(a.configVars),
        rec.createdAt,
        a.ownerId ?? null,
      );
    return rec;
  }

  /** Add-ons of an app (its own and those attached from other apps). */
  addons(appId: string): AddonRecord[] {
    return (
      this.db.prepare('SELECT * FROM addons WHERE app_id = ? ORDER BY created_at').all(appId) as Row[]
    ).map(toAddon);
  }

  /** Attachments of the add-on row `ownerId` to other apps. */
  attachmentsOf(ownerId: string): AddonRecord[] {
    return (
      this.db.prepare('SELECT * FROM addons WHERE owner_id = ? ORDER BY created_at').all(ownerId) as Row[]
    ).map(toAddon);
  }

  /** One add-on row by id. */
  addon(id: string): AddonRecord | undefined {
    const r = this.db.prepare('SELECT * FROM addons WHERE id = ?').get(id) as Row | undefined;
    return r && toAddon(r);
  }

  /** Record an add-on's new plan and the config vars it now sets. */
  updateAddon(id: string, change: { plan: string; configVars: string[] }): void {
    this.db
      .prepare('UPDATE addons SET plan = ?, config_vars = ? WHERE id = ?')
      .run(change.plan, JSON.stringify(change.configVars), id);
  }

  /** Forget an add-on record. */
  removeAddon(id: string): void {
    this.db.prepare('DELETE FROM addons WHERE id = ?').run(id);
  }

  // --- API tokens -----------------------------------------------------------------------------

  /** Create a token; only its SHA-256 is stored, the secret is returned once. */
  createToken(description: string): { id: string; token: string } {
    const id = randomUUID();
    const token = `slp_${randomBytes(24).toString('base64url')}`;
    this.db
      .prepare('INSERT INTO tokens (id, hash, description, created_at) VALUES (?, ?, ?, ?)')
      .run(id, sha256(token), description, now());
    return { id, token };
  }

  /** True when `token` is a known token (compared in constant time over the hashes). */
  verifyToken(token: string): boolean {
    const h = Buffer.from(sha256(token), 'hex');
    let ok = false;
    for (const r of this.db.prepare('SELECT hash FROM tokens').all() as Row[])
      if (timingSafeEqual(h, Buffer.from(r.hash as string, 'hex'))) ok = true;
    return ok;
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
