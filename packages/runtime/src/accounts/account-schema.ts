/** The accounts tables (users, tokens, sessions, per-app access, release users, audit) and their records. */

/** A platform user. */
export interface UserRecord {
  id: string;
  email: string;
  /** The platform admin manages users and sees every app. */
  admin: boolean;
  /** The user created on first start (cannot be removed). */
  owner: boolean;
  createdAt: string;
}

/** An API token of a user (the secret itself is never stored). */
export interface TokenRecord {
  id: string;
  userId: string;
  description: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** One app's owner or collaborator. */
export interface AccessRecord {
  appId: string;
  user: UserRecord;
  role: 'owner' | 'collaborator';
  createdAt: string;
}

/** One line of the audit log. */
export interface AuditRecord {
  id: number;
  at: string;
  actor: string | null;
  action: string;
  app: string | null;
  status: number;
  ip: string | null;
}

/** The accounts tables' migrations, in order (their own list: `accounts_migrations`). */
export const accountMigrations = [
  `CREATE TABLE users (
     id TEXT PRIMARY KEY,
     email TEXT NOT NULL UNIQUE COLLATE NOCASE,
     password_hash TEXT NOT NULL,
     admin INTEGER NOT NULL DEFAULT 0,
     owner INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL
   );
   CREATE TABLE user_tokens (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     hash TEXT NOT NULL UNIQUE,
     description TEXT NOT NULL,
     created_at TEXT NOT NULL,
     last_used_at TEXT
   );
   CREATE TABLE user_sessions (
     hash TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     csrf TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL
   );
   CREATE TABLE app_access (
     app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
     user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     role TEXT NOT NULL CHECK (role IN ('owner', 'collaborator')),
     created_at TEXT NOT NULL,
     PRIMARY KEY (app_id, user_id)
   );
   CREATE UNIQUE INDEX app_access_one_owner ON app_access(app_id) WHERE role = 'owner';
   CREATE TABLE release_users (
     release_id TEXT PRIMARY KEY REFERENCES releases(id) ON DELETE CASCADE,
     user_id TEXT,
     email TEXT
   );
   CREATE TABLE audit_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at TEXT NOT NULL,
     actor TEXT,
     action TEXT NOT NULL,
     app TEXT,
     status INTEGER NOT NULL,
     ip TEXT
   );
   CREATE INDEX audit_events_app ON audit_events(app, id);`,
];
