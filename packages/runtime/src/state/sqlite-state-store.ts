/**
 * The default StateStore: one SQLite file in the data dir (better-sqlite3, WAL). Every write is
 * a committed transaction before the call returns, and `synchronous=FULL` makes a commit
 * durable across a power cut too (a SIGKILL of the platform alone cannot lose a WAL commit).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { StateStore } from '@slipway/core';
import Database from 'better-sqlite3';
import { runtimeErrors } from '../errors.js';
import { generateAppName } from './app-names.js';
import { AppSetupTable } from './app-setup-table.js';
import { migrations } from './migrations.js';
import type {
  AddonRecord,
  AppRecord,
  BuildRecord,
  DomainRecord,
  DrainRecord,
  DynoRecord,
  FormationRecord,
  ReleaseRecord,
  SlugRecord,
  Status,
} from './records.js';
import { ReleaseOutputTable } from './release-output-table.js';

/** Allow-list of app names (Heroku's rule, 30 characters at most). */
export const APP_NAME = /^[a-z][a-z0-9-]{1,29}$/;

/** Throw the coded error unless `name` is a valid app name. */
export function assertAppName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !APP_NAME.test(name))
    throw runtimeErrors.SLIPWAY_ERR_RUNTIME_APP_NAME({ name: String(name).slice(0, 60) });
}

type Row = Record<string, any>;
const now = () => new Date().toISOString();
const json = <T>(s: string | null | undefined, dflt: T): T => (s ? (JSON.parse(s) as T) : dflt);

const toApp = (r: Row): AppRecord => ({
  id: r.id,
  name: r.name,
  buildpacks: json(r.buildpacks, []),
  maintenance: !!r.maintenance,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
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

/** SQLite implementation of the platform state. */
export class SqliteStateStore implements StateStore {
  /** The open database (exposed for tests and diagnostics). */
  readonly db: Database.Database;
  /** app.json setup records (pending and finished postdeploy scripts). */
  readonly appSetups: AppSetupTable;
  /** What each release phase printed. */
  readonly releaseOutputs: ReleaseOutputTable;

  /** Open (creating if needed) the database file and apply pending migrations. */
  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.appSetups = new AppSetupTable(this.db);
    this.releaseOutputs = new ReleaseOutputTable(this.db);
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

  transaction<R>(fn: () => R): R {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

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

  /** Link a finished build to the release it produced. */
  setBuildRelease(id: string, version: number): void {
    this.db.prepare('UPDATE builds SET release_version = ? WHERE id = ?').run(version, id);
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

  // --- dynos (last known; the runtime's list() is the live view) ------------------------------

  /** Replace the recorded dynos of an app. */
  recordDynos(appId: string, dynos: Omit<DynoRecord, 'appId'>[]): void {
    this.transaction(() => {
      this.db.prepare('DELETE FROM dynos WHERE app_id = ?').run(appId);
      const ins = this.db.prepare(
        'INSERT INTO dynos (id, app_id, name, type, release_version, state, host, port, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const d of dynos)
        ins.run(d.id, appId, d.name, d.type, d.releaseVersion, d.state, d.host, d.port, d.startedAt);
    });
  }

  /** Recorded dynos of an app. */
  dynos(appId: string): DynoRecord[] {
    return (this.db.prepare('SELECT * FROM dynos WHERE app_id = ? ORDER BY name').all(appId) as Row[]).map(
      (r) => ({
        id: r.id,
        appId: r.app_id,
        name: r.name,
        type: r.type,
        releaseVersion: r.release_version,
        state: r.state,
        host: r.host,
        port: r.port,
        startedAt: r.started_at,
      }),
    );
  }

  // --- domains, drains, add-ons ---------------------------------------------------------------

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

  /** Number of tokens. */
  tokenCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM tokens').get() as Row).n;
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
