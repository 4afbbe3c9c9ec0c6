/**
 * Schema migrations of the SQLite state store's own tables: those `SqliteStateStore` and its
 * table classes (release-output-table.ts, provider-table.ts) read. Append only: a released
 * migration is never edited, a change gets a new entry, so an old data dir upgrades in place on
 * the next start. A module with its own store class over its own family of tables (accounts,
 * certificates) keeps its own list with table-migrations.ts instead, and takes no number here.
 */

/** One schema step, applied once in its own transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * All migrations, in order. Two edits to released entries: `drains` left the first one and
 * `app_setups` the second when the drains and app setup plugins took their tables
 * (drains/drain-table.ts, app-setup/app-setup-table.ts): a data dir made before keeps them, and
 * each plugin's first step (`CREATE TABLE IF NOT EXISTS`, the same columns) adopts its table.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE apps (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        buildpacks TEXT NOT NULL DEFAULT '[]',
        maintenance INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE slugs (
        checksum TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        process_types TEXT NOT NULL,
        buildpacks TEXT NOT NULL,
        stack TEXT NOT NULL,
        app_json TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE builds (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
        slug TEXT REFERENCES slugs(checksum),
        release_version INTEGER,
        error TEXT,
        output TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX builds_app ON builds(app_id, created_at);
      CREATE TABLE releases (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        description TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
        slug TEXT REFERENCES slugs(checksum),
        config TEXT NOT NULL,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (app_id, version)
      );
      CREATE TABLE config_vars (
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (app_id, key)
      );
      CREATE TABLE formation (
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        size TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (app_id, type)
      );
      CREATE TABLE dynos (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        release_version INTEGER NOT NULL,
        state TEXT NOT NULL,
        host TEXT,
        port INTEGER,
        started_at TEXT NOT NULL
      );
      CREATE TABLE domains (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        hostname TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
      );
      CREATE TABLE addons (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        service TEXT NOT NULL,
        plan TEXT NOT NULL,
        name TEXT NOT NULL,
        provider_id TEXT NOT NULL,
        config_vars TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (app_id, name)
      );
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'app setup postdeploy',
    // The app_setups table this step made is now the app setup plugin's
    // (app-setup/app-setup-table.ts), which creates it where it is missing and adopts it here.
    sql: '',
  },
  {
    version: 3,
    name: 'release phase output and add-on attachments',
    // `releases:output`: what the release phase printed, kept beside the release (Heroku's
    // `output_stream_url`). `owner_id`: an attachment of another app's add-on (`addons:attach`)
    // points at the owning row; only the owner is ever deprovisioned.
    sql: `
      CREATE TABLE release_outputs (
        release_id TEXT PRIMARY KEY REFERENCES releases(id) ON DELETE CASCADE,
        output TEXT NOT NULL
      );
      ALTER TABLE addons ADD COLUMN owner_id TEXT;
    `,
  },
  {
    version: 4,
    name: 'addon providers',
    // Remote add-on providers registered through the API (addons:providers:add), registered
    // again at every start.
    sql: `
      CREATE TABLE addon_providers (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('partner', 'osb')),
        config TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
];
