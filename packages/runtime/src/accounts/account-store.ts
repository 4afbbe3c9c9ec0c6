/**
 * Users, their API tokens and browser sessions, per-app access and the audit log, in the
 * platform's SQLite file. The tables have their own migration list (`accounts_migrations`), so
 * they upgrade in place without taking numbers from the state store's. Secrets (tokens, session
 * ids) are stored as SHA-256 only and shown once; passwords as scrypt hashes.
 *
 * Who made a change is read from the request's principal (`currentActor`) by two TEMP triggers
 * of this connection: a new app gets its creator as owner, a new release records its user, on
 * every code path that creates them (API, git push, app setups) without those paths knowing.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { now, type Row } from '../state/store-base.js';
import { migrateTables } from '../state/table-migrations.js';
import {
  type AccessRecord,
  type AuditRecord,
  accountMigrations,
  type TokenRecord,
  type UserRecord,
} from './account-schema.js';
import { accountErrors } from './errors.js';
import { currentActor } from './principal.js';

export type { AccessRecord, AuditRecord, TokenRecord, UserRecord } from './account-schema.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const toUser = (r: Row): UserRecord => ({
  id: r.id,
  email: r.email,
  admin: !!r.admin,
  owner: !!r.owner,
  createdAt: r.created_at,
});
const EMAIL = /^[^@\s]{1,64}@[^@\s]{1,189}$/;

/** Session lifetime: a browser session ends after this without use of a new sign-in. */
export const SESSION_TTL_MS = 12 * 3600 * 1000;

/** Throw the coded error unless `email` looks like an address. */
export function assertEmail(email: unknown): asserts email is string {
  if (typeof email !== 'string' || !EMAIL.test(email))
    throw accountErrors.SLIPWAY_ERR_ACCOUNTS_EMAIL({ email: String(email).slice(0, 80) });
}

/** Accounts tables over the state store's open database. */
export class AccountStore {
  constructor(readonly db: Database.Database) {
    this.migrate();
    // Both read the principal of the request being served (AsyncLocalStorage) at insert time.
    db.function('slipway_actor_id', () => currentActor()?.id ?? null);
    db.function('slipway_actor_email', () => currentActor()?.email ?? null);
    db.exec(`
      CREATE TEMP TRIGGER IF NOT EXISTS apps_owner AFTER INSERT ON main.apps BEGIN
        INSERT INTO main.app_access (app_id, user_id, role, created_at)
        SELECT NEW.id, u.id, 'owner', NEW.created_at FROM main.users u
        WHERE u.id = COALESCE(slipway_actor_id(), (SELECT id FROM main.users WHERE owner = 1));
      END;
      CREATE TEMP TRIGGER IF NOT EXISTS releases_user AFTER INSERT ON main.releases BEGIN
        INSERT INTO main.release_users (release_id, user_id, email)
        VALUES (NEW.id, slipway_actor_id(), slipway_actor_email());
      END;
    `);
  }

  private migrate(): void {
    migrateTables(this.db, 'accounts_migrations', accountMigrations);
  }

  // --- users ----------------------------------------------------------------------------------

  /** Add a user with an already hashed password. */
  createUser(
    email: string,
    passwordHash: string,
    flags: { admin?: boolean; owner?: boolean } = {},
  ): UserRecord {
    assertEmail(email);
    if (this.userByEmail(email)) throw accountErrors.SLIPWAY_ERR_ACCOUNTS_USER_EXISTS({ email });
    const id = randomUUID();
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO users (id, email, password_hash, admin, owner, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(id, email, passwordHash, flags.admin || flags.owner ? 1 : 0, flags.owner ? 1 : 0, now());
      // The platform's owner takes the apps made before accounts existed.
      if (flags.owner)
        this.db
          .prepare(
            "INSERT OR IGNORE INTO app_access (app_id, user_id, role, created_at) SELECT id, ?, 'owner', created_at FROM apps WHERE id NOT IN (SELECT app_id FROM app_access WHERE role = 'owner')",
          )
          .run(id);
    })();
    return this.user(id) as UserRecord;
  }

  /** A user by id. */
  user(id: string): UserRecord | undefined {
    const r = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as Row | undefined;
    return r && toUser(r);
  }

  /** A user by email (case-insensitive). */
  userByEmail(email: string): UserRecord | undefined {
    const r = this.db.prepare('SELECT * FROM users WHERE email = ?').get(email) as Row | undefined;
    return r && toUser(r);
  }

  /** The user or the coded 404. */
  requireUser(email: string): UserRecord {
    const u = this.userByEmail(email);
    if (!u) throw accountErrors.SLIPWAY_ERR_ACCOUNTS_USER_NOT_FOUND({ email });
    return u;
  }

  /** The platform owner (created on first start). */
  owner(): UserRecord | undefined {
    const r = this.db.prepare('SELECT * FROM users WHERE owner = 1').get() as Row | undefined;
    return r && toUser(r);
  }

  /** Every user, oldest first. */
  listUsers(): UserRecord[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY created_at, email').all() as Row[]).map(toUser);
  }

  /** Stored password hash of a user. */
  passwordHash(userId: string): string | undefined {
    return (this.db.prepare('SELECT password_hash FROM users WHERE id = ?').get(userId) as Row | undefined)
      ?.password_hash;
  }

  /** Replace a user's password hash; their sessions end (tokens stay: they are revoked one by one). */
  setPasswordHash(userId: string, hash: string): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(hash, userId);
      this.db.prepare('DELETE FROM user_sessions WHERE user_id = ?').run(userId);
    })();
  }

  /** Make a user a platform admin, or not. */
  setAdmin(userId: string, admin: boolean): void {
    this.db.prepare('UPDATE users SET admin = ? WHERE id = ?').run(admin ? 1 : 0, userId);
  }

  /** Remove a user; refused for the owner and for anyone who still owns apps. */
  deleteUser(email: string): UserRecord {
    const u = this.requireUser(email);
    if (u.owner)
      throw accountErrors.SLIPWAY_ERR_ACCOUNTS_USER_IN_USE({
        email,
        detail: 'it is the platform owner',
        hint: 'The owner stays; remove other users.',
      });
    const owned = this.db
      .prepare(
        "SELECT a.name FROM app_access x JOIN apps a ON a.id = x.app_id WHERE x.user_id = ? AND x.role = 'owner'",
      )
      .all(u.id) as Row[];
    if (owned.length)
      throw accountErrors.SLIPWAY_ERR_ACCOUNTS_USER_IN_USE({
        email,
        detail: `it owns ${owned.map((r) => r.name).join(', ')}`,
        hint: 'Transfer those apps first: `slipway apps:transfer NEW_OWNER -a APP`.',
      });
    this.db.prepare('DELETE FROM users WHERE id = ?').run(u.id);
    return u;
  }

  // --- API tokens -----------------------------------------------------------------------------

  /** Create a named token for a user; the secret is returned once. */
  createToken(userId: string, description: string): { record: TokenRecord; token: string } {
    const id = randomUUID();
    const token = `slpu_${randomBytes(24).toString('base64url')}`;
    this.db
      .prepare('INSERT INTO user_tokens (id, user_id, hash, description, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, userId, sha256(token), description, now());
    return { record: this.tokens(userId).find((t) => t.id === id) as TokenRecord, token };
  }

  /** The user a token belongs to, and the token's id; undefined for unknown or revoked tokens. */
  userForToken(token: string): { user: UserRecord; tokenId: string } | undefined {
    // A lookup by the SHA-256 of a 192-bit secret: timing tells nothing useful about the secret.
    const r = this.db
      .prepare(
        'SELECT t.id AS token_id, t.last_used_at, u.* FROM user_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?',
      )
      .get(sha256(token)) as Row | undefined;
    if (!r) return undefined;
    // At most one write a minute per token: a read must not cost a durable commit each time.
    const t = Date.now();
    if (!r.last_used_at || t - Date.parse(r.last_used_at) > 60_000)
      this.db
        .prepare('UPDATE user_tokens SET last_used_at = ? WHERE id = ?')
        .run(new Date(t).toISOString(), r.token_id);
    return { user: toUser(r), tokenId: r.token_id };
  }

  /** A user's tokens, oldest first. */
  tokens(userId: string): TokenRecord[] {
    return (
      this.db.prepare('SELECT * FROM user_tokens WHERE user_id = ? ORDER BY created_at').all(userId) as Row[]
    ).map((r) => ({
      id: r.id,
      userId: r.user_id,
      description: r.description,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
    }));
  }

  /** Revoke one of a user's tokens; it stops working for the next request. */
  revokeToken(userId: string, id: string): TokenRecord {
    const t = this.tokens(userId).find((x) => x.id === id || x.description === id);
    if (!t) throw accountErrors.SLIPWAY_ERR_ACCOUNTS_TOKEN_NOT_FOUND({ id });
    this.db.prepare('DELETE FROM user_tokens WHERE id = ?').run(t.id);
    return t;
  }

  // --- browser sessions -----------------------------------------------------------------------

  /** Start a session; returns the cookie value and its CSRF token (both random, once). */
  createSession(userId: string): { sid: string; csrf: string } {
    const sid = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    const t = Date.now();
    this.db.prepare('DELETE FROM user_sessions WHERE expires_at < ?').run(new Date(t).toISOString());
    this.db
      .prepare(
        'INSERT INTO user_sessions (hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(sha256(sid), userId, csrf, new Date(t).toISOString(), new Date(t + SESSION_TTL_MS).toISOString());
    return { sid, csrf };
  }

  /** The live session of a cookie value. */
  session(sid: string): { user: UserRecord; csrf: string } | undefined {
    const r = this.db
      .prepare(
        'SELECT s.csrf, s.expires_at, u.* FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?',
      )
      .get(sha256(sid)) as Row | undefined;
    if (!r || r.expires_at < now()) return undefined;
    return { user: toUser(r), csrf: r.csrf };
  }

  /** End a session. */
  endSession(sid: string): void {
    this.db.prepare('DELETE FROM user_sessions WHERE hash = ?').run(sha256(sid));
  }

  // --- per-app access -------------------------------------------------------------------------

  /** The role of a user on an app, if any. */
  role(appId: string, userId: string): 'owner' | 'collaborator' | undefined {
    return (
      this.db.prepare('SELECT role FROM app_access WHERE app_id = ? AND user_id = ?').get(appId, userId) as
        | Row
        | undefined
    )?.role;
  }

  /** Ids of the apps a user owns or collaborates on. */
  appIdsOf(userId: string): Set<string> {
    return new Set(
      (this.db.prepare('SELECT app_id FROM app_access WHERE user_id = ?').all(userId) as Row[]).map(
        (r) => r.app_id as string,
      ),
    );
  }

  /** An app's owner and collaborators, owner first. */
  access(appId: string): AccessRecord[] {
    return (
      this.db
        .prepare(
          "SELECT x.role, x.created_at AS granted_at, x.app_id, u.* FROM app_access x JOIN users u ON u.id = x.user_id WHERE x.app_id = ? ORDER BY x.role = 'owner' DESC, x.created_at",
        )
        .all(appId) as Row[]
    ).map((r) => ({ appId: r.app_id, user: toUser(r), role: r.role, createdAt: r.granted_at }));
  }

  /** Give a user collaborator access. */
  addCollaborator(appId: string, app: string, email: string): AccessRecord {
    const u = this.requireUser(email);
    const had = this.role(appId, u.id);
    if (had)
      throw accountErrors.SLIPWAY_ERR_ACCOUNTS_COLLABORATOR({ email, app, detail: `is already the ${had}` });
    this.db
      .prepare("INSERT INTO app_access (app_id, user_id, role, created_at) VALUES (?, ?, 'collaborator', ?)")
      .run(appId, u.id, now());
    return this.access(appId).find((x) => x.user.id === u.id) as AccessRecord;
  }

  /** Take a collaborator's access away (the owner's cannot be: transfer the app instead). */
  removeCollaborator(appId: string, app: string, email: string): AccessRecord {
    const u = this.requireUser(email);
    const x = this.access(appId).find((r) => r.user.id === u.id);
    if (!x) throw accountErrors.SLIPWAY_ERR_ACCOUNTS_COLLABORATOR({ email, app, detail: 'has no access' });
    if (x.role === 'owner')
      throw accountErrors.SLIPWAY_ERR_ACCOUNTS_COLLABORATOR({
        email,
        app,
        detail: 'is the owner (transfer the app to change it)',
      });
    this.db.prepare('DELETE FROM app_access WHERE app_id = ? AND user_id = ?').run(appId, u.id);
    return x;
  }

  /** Make `email` the owner; the previous owner stays as a collaborator. */
  transfer(appId: string, email: string): AccessRecord {
    const u = this.requireUser(email);
    this.db.transaction(() => {
      this.db
        .prepare("UPDATE app_access SET role = 'collaborator' WHERE app_id = ? AND role = 'owner'")
        .run(appId);
      this.db.prepare('DELETE FROM app_access WHERE app_id = ? AND user_id = ?').run(appId, u.id);
      this.db
        .prepare("INSERT INTO app_access (app_id, user_id, role, created_at) VALUES (?, ?, 'owner', ?)")
        .run(appId, u.id, now());
    })();
    return this.access(appId)[0] as AccessRecord;
  }

  // --- releases and the audit log -------------------------------------------------------------

  /** Who made a release (null for the platform's own, e.g. at first start). */
  releaseUser(releaseId: string): { id: string | null; email: string } | null {
    const r = this.db
      .prepare('SELECT user_id, email FROM release_users WHERE release_id = ?')
      .get(releaseId) as Row | undefined;
    return r?.email ? { id: r.user_id, email: r.email } : null;
  }

  /** Append one event to the audit log. */
  audit(e: Omit<AuditRecord, 'id' | 'at'>): void {
    this.db
      .prepare('INSERT INTO audit_events (at, actor, action, app, status, ip) VALUES (?, ?, ?, ?, ?, ?)')
      .run(now(), e.actor, e.action, e.app, e.status, e.ip);
  }

  /**
   * Audit events, newest first. `visible` limits them to those apps' events and the reader's
   * own events without an app (absent = everything, for the admin).
   */
  auditEvents(q: { app?: string; n: number; visible?: { apps: string[]; actor: string } }): AuditRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.app) {
      where.push('app = ?');
      args.push(q.app);
    }
    if (q.visible) {
      where.push('(app IN (SELECT value FROM json_each(?)) OR (app IS NULL AND actor = ?))');
      args.push(JSON.stringify(q.visible.apps), q.visible.actor);
    }
    const sql = `SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.n) as Row[]).map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      app: r.app,
      status: r.status,
      ip: r.ip,
    }));
  }
}
