/**
 * The certificate tables of the state store: app certificates (PEM chain and private key),
 * per-app HTTPS settings (redirect, HSTS, automated certificates) and ACME account keys.
 * Every write is one statement, committed before the call returns.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { now, type Row } from '../state/store-base.js';
import { migrateTables } from '../state/table-migrations.js';
import type { CheckedCertificate } from './cert-check.js';

/** A stored certificate. */
export interface CertificateRecord {
  id: string;
  appId: string;
  /** `sni-N` for uploads, `acm-<domain>` for ACME-issued ones. */
  name: string;
  source: 'upload' | 'acme';
  /** The one domain it is limited to (`--domain`, or the ACME order's), else every name it covers. */
  domain: string | null;
  certPem: string;
  keyPem: string;
  names: string[];
  subject: string;
  issuer: string;
  fingerprint: string;
  selfSigned: boolean;
  notBefore: string;
  notAfter: string;
  createdAt: string;
  updatedAt: string;
}

/** An app's HTTPS settings. */
export interface HttpsSettings {
  redirect: boolean;
  /** HSTS `max-age` in seconds; null = no header. */
  hstsMaxAge: number | null;
  /** Automated certificates (ACM) for the app's custom domains. */
  acm: boolean;
}

/**
 * The certificate tables' own migrations (append only; see state/table-migrations.ts). Keys
 * live in the state file, which the platform makes 0600, like config vars and tokens.
 */
const migrations = [
  `CREATE TABLE certificates (
     id TEXT PRIMARY KEY,
     app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     source TEXT NOT NULL CHECK (source IN ('upload', 'acme')),
     domain TEXT,
     cert_pem TEXT NOT NULL,
     key_pem TEXT NOT NULL,
     names TEXT NOT NULL,
     subject TEXT NOT NULL,
     issuer TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     self_signed INTEGER NOT NULL,
     not_before TEXT NOT NULL,
     not_after TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     UNIQUE (app_id, name)
   );
   CREATE TABLE app_https (
     app_id TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
     redirect INTEGER NOT NULL DEFAULT 0,
     hsts_max_age INTEGER,
     acm INTEGER NOT NULL DEFAULT 0,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE acme_accounts (
     directory_url TEXT PRIMARY KEY,
     key_pem TEXT NOT NULL,
     created_at TEXT NOT NULL
   );`,
];

const toCert = (r: Row): CertificateRecord => ({
  id: r.id,
  appId: r.app_id,
  name: r.name,
  source: r.source,
  domain: r.domain,
  certPem: r.cert_pem,
  keyPem: r.key_pem,
  names: JSON.parse(r.names),
  subject: r.subject,
  issuer: r.issuer,
  fingerprint: r.fingerprint,
  selfSigned: !!r.self_signed,
  notBefore: r.not_before,
  notAfter: r.not_after,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Certificate, HTTPS-setting and ACME-account rows of the state store. */
export class CertTable {
  constructor(private readonly db: Database.Database) {
    migrateTables(db, 'cert_migrations', migrations);
  }

  /** Certificates of an app, or of every app. */
  certificates(appId?: string): CertificateRecord[] {
    const rows = appId
      ? this.db.prepare('SELECT * FROM certificates WHERE app_id = ? ORDER BY created_at, name').all(appId)
      : this.db.prepare('SELECT * FROM certificates ORDER BY created_at, name').all();
    return (rows as Row[]).map(toCert);
  }

  /** Store a checked certificate under `name`, replacing one of that name (a renewal). */
  put(
    appId: string,
    name: string,
    source: CertificateRecord['source'],
    domain: string | null,
    c: CheckedCertificate,
  ): CertificateRecord {
    const t = now();
    this.db
      .prepare(
        `INSERT INTO certificates (id, app_id, name, source, domain, cert_pem, key_pem, names, subject,
           issuer, fingerprint, self_signed, not_before, not_after, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (app_id, name) DO UPDATE SET source = excluded.source, domain = excluded.domain,
           cert_pem = excluded.cert_pem, key_pem = excluded.key_pem, names = excluded.names,
           subject = excluded.subject, issuer = excluded.issuer, fingerprint = excluded.fingerprint,
           self_signed = excluded.self_signed, not_before = excluded.not_before,
           not_after = excluded.not_after, updated_at = excluded.updated_at`,
      )
      .run(
        randomUUID(),
        appId,
        name,
        source,
        domain,
        c.certPem,
        c.keyPem,
        JSON.stringify(c.names),
        c.subject,
        c.issuer,
        c.fingerprint,
        c.selfSigned ? 1 : 0,
        c.notBefore.toISOString(),
        c.notAfter.toISOString(),
        t,
        t,
      );
    return toCert(
      this.db.prepare('SELECT * FROM certificates WHERE app_id = ? AND name = ?').get(appId, name) as Row,
    );
  }

  /** Remove a certificate by name; false when there was none. */
  remove(appId: string, name: string): boolean {
    return (
      this.db.prepare('DELETE FROM certificates WHERE app_id = ? AND name = ?').run(appId, name).changes > 0
    );
  }

  /** Remove every certificate of `source` of an app. */
  removeSource(appId: string, source: CertificateRecord['source']): number {
    return this.db.prepare('DELETE FROM certificates WHERE app_id = ? AND source = ?').run(appId, source)
      .changes;
  }

  /** The next free `sni-N` name of an app. */
  nextUploadName(appId: string): string {
    const used = new Set(this.certificates(appId).map((c) => c.name));
    let n = 1;
    while (used.has(`sni-${n}`)) n++;
    return `sni-${n}`;
  }

  /** HTTPS settings of every app that has some. */
  allSettings(): Map<string, HttpsSettings> {
    const rows = this.db.prepare('SELECT * FROM app_https').all() as Row[];
    return new Map(
      rows.map((r) => [r.app_id, { redirect: !!r.redirect, hstsMaxAge: r.hsts_max_age, acm: !!r.acm }]),
    );
  }

  /** An app's HTTPS settings (defaults: all off). */
  settings(appId: string): HttpsSettings {
    return this.allSettings().get(appId) ?? { redirect: false, hstsMaxAge: null, acm: false };
  }

  /** Change some of an app's HTTPS settings. */
  setSettings(appId: string, change: Partial<HttpsSettings>): HttpsSettings {
    const next = { ...this.settings(appId), ...change };
    this.db
      .prepare(
        `INSERT INTO app_https (app_id, redirect, hsts_max_age, acm, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (app_id) DO UPDATE SET redirect = excluded.redirect,
           hsts_max_age = excluded.hsts_max_age, acm = excluded.acm, updated_at = excluded.updated_at`,
      )
      .run(appId, next.redirect ? 1 : 0, next.hstsMaxAge, next.acm ? 1 : 0, now());
    return next;
  }

  /** The ACME account key for a directory, made by `create` on first use. */
  async accountKey(directoryUrl: string, create: () => Promise<string>): Promise<string> {
    const r = this.db
      .prepare('SELECT key_pem FROM acme_accounts WHERE directory_url = ?')
      .get(directoryUrl) as Row | undefined;
    if (r) return r.key_pem;
    const key = await create();
    this.db
      .prepare('INSERT OR IGNORE INTO acme_accounts (directory_url, key_pem, created_at) VALUES (?, ?, ?)')
      .run(directoryUrl, key, now());
    return (
      this.db.prepare('SELECT key_pem FROM acme_accounts WHERE directory_url = ?').get(directoryUrl) as Row
    ).key_pem;
  }
}
