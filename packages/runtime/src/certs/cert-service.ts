/**
 * App certificates and HTTPS policies as the router sees them. `refresh()` (called after every
 * API change and after each ACME issue) recomputes which certificate serves each custom domain
 * and swaps the router's CertificateStore only when that changed; a domain is served only a
 * certificate of the app that owns it, so no app ever gets another's certificate.
 */
import { chmodSync } from 'node:fs';
import type { CertificatePem, CertificateStore, HttpsPolicy, HttpsPolicySource } from '@slipway/router';
import type { AppRecord } from '../state/records.js';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';
import { type CheckedCertificate, checkCertificate, namesCover } from './cert-check.js';
import { type CertificateRecord, CertTable, type HttpsSettings } from './cert-table.js';
import { certErrors } from './errors.js';

/** Inputs of the certificate service. */
export interface CertServiceOptions {
  state: SqliteStateStore;
  /** The router's live store. */
  store: CertificateStore;
  /** The base domain's (wildcard) certificate from the platform config, served by default. */
  defaultCertificate?: CheckedCertificate;
  /** The HTTPS listener's port once bound (redirect URLs). */
  httpsPort(): number | undefined;
  /** Told when a refresh changed a policy or a served certificate: the HTTPS route rules read them. */
  rulesChanged?: () => void;
}

/** Uploaded and issued certificates, HTTPS settings, and the router's view of them. */
export class CertService implements HttpsPolicySource {
  readonly table: CertTable;
  private policies = new Map<string, HttpsPolicy>();
  private served = new Map<string, string>();
  /** What the store serves now; undefined until the first refresh. */
  private signature: string | undefined;
  /** The policies as last announced (undefined until the first refresh). */
  private policySignature: string | undefined;

  constructor(private readonly o: CertServiceOptions) {
    this.table = new CertTable(o.state.db);
    // The state file now holds private keys (as it holds config vars): the platform's alone.
    for (const f of [o.state.db.name, `${o.state.db.name}-wal`, `${o.state.db.name}-shm`]) {
      try {
        chmodSync(f, 0o600);
      } catch {
        // -wal/-shm exist only while the database is open in WAL mode; SQLite gives them the db's mode.
      }
    }
  }

  /** Check and store an uploaded certificate for `app`; the router serves it at once. */
  add(app: AppRecord, certPem: string, keyPem: string, domain?: string): CertificateRecord {
    const checked = checkCertificate(certPem, keyPem);
    const own = this.o.state.domains(app.id).map((d) => d.hostname);
    const names = checked.names.join(', ');
    if (domain !== undefined) {
      const host = domain.trim().toLowerCase().replace(/\.$/, '');
      if (!namesCover(checked.names, host)) throw certErrors.SLIPWAY_ERR_CERT_DOMAIN({ names, domain: host });
      if (!own.includes(host)) throw certErrors.SLIPWAY_ERR_CERT_NO_DOMAIN({ names: host, app: app.name });
      domain = host;
    } else if (!own.some((h) => namesCover(checked.names, h)))
      throw certErrors.SLIPWAY_ERR_CERT_NO_DOMAIN({ names, app: app.name });
    const rec = this.table.put(app.id, this.table.nextUploadName(app.id), 'upload', domain ?? null, checked);
    this.refresh();
    return rec;
  }

  /** An app's certificate by name; with no name, its only uploaded one. */
  get(app: AppRecord, name?: string): CertificateRecord {
    const all = this.table.certificates(app.id);
    const hit = name ? all.find((c) => c.name === name) : all.length === 1 ? all[0] : undefined;
    if (!hit)
      throw certErrors.SLIPWAY_ERR_CERT_NOT_FOUND({
        app: app.name,
        name: name ?? (all.length > 1 ? '(several: name one with --name)' : '(none uploaded)'),
      });
    return hit;
  }

  /** Remove a certificate; its domains fall back to the default certificate at once. */
  remove(app: AppRecord, name?: string): CertificateRecord {
    const c = this.get(app, name);
    this.table.remove(app.id, c.name);
    this.refresh();
    return c;
  }

  /** Custom domains this certificate serves now. */
  servedBy(c: CertificateRecord): string[] {
    return [...this.served].filter(([, id]) => id === c.id).map(([host]) => host);
  }

  /** Change an app's redirect/HSTS settings; applies to the next request. */
  setSettings(app: AppRecord, change: Partial<HttpsSettings>): HttpsSettings {
    const s = this.table.setSettings(app.id, change);
    this.refresh();
    return s;
  }

  /** The app's redirect/HSTS policy (for the router's `httpsPolicyPlugin`). */
  policy(app: string): HttpsPolicy | undefined {
    return this.policies.get(app);
  }

  /** Whether the router has a certificate of its own (or a wildcard) for `host`. */
  covers(host: string): boolean {
    return this.o.store.covers(host);
  }

  /** The HTTPS port redirect URLs name. */
  httpsPort(): number | undefined {
    return this.o.httpsPort();
  }

  /** Recompute the served certificates and the policies from the state. */
  refresh(): void {
    // A policy or a certificate (`covers`) is what the HTTPS rules are made of; most API
    // changes (config vars, scale) change neither, and keep the routers' rules.
    if (this.recompute()) this.o.rulesChanged?.();
  }

  /** Whether a policy or the served certificates changed. */
  private recompute(): boolean {
    const apps = this.o.state.listApps();
    const names = new Map(apps.map((a) => [a.id, a.name]));
    const policies = new Map<string, HttpsPolicy>();
    for (const [appId, s] of this.table.allSettings()) {
      const name = names.get(appId);
      if (name && (s.redirect || s.hstsMaxAge !== null))
        policies.set(name, {
          redirect: s.redirect,
          ...(s.hstsMaxAge !== null ? { hsts: `max-age=${s.hstsMaxAge}` } : {}),
        });
    }
    this.policies = policies;
    const policySignature = JSON.stringify([...policies]);
    const policiesChanged = policySignature !== this.policySignature;
    this.policySignature = policySignature;

    const now = Date.now();
    const certs = this.table.certificates().filter((c) => Date.parse(c.notAfter) > now);
    const served = new Map<string, CertificateRecord>();
    for (const d of this.o.state.domains()) {
      let best: CertificateRecord | undefined;
      for (const c of certs) {
        if (c.appId !== d.appId) continue;
        if (c.domain !== null ? c.domain !== d.hostname : !namesCover(c.names, d.hostname)) continue;
        if (!best || c.notAfter > best.notAfter) best = c;
      }
      if (best) served.set(d.hostname, best);
    }
    const byCert = new Map<string, { c: CertificateRecord; domains: string[] }>();
    for (const [host, c] of served) {
      const e = byCert.get(c.id) ?? { c, domains: [] };
      e.domains.push(host);
      byCert.set(c.id, e);
    }
    const signature = [...byCert.values()]
      .map((e) => `${e.c.id}@${e.c.updatedAt}:${e.domains.sort().join(',')}`)
      .sort()
      .join(';');
    this.served = new Map([...served].map(([h, c]) => [h, c.id]));
    if (signature === this.signature) return policiesChanged;
    const entries: CertificatePem[] = [...byCert.values()].map((e) => ({
      cert: e.c.certPem,
      key: e.c.keyPem,
      domains: e.domains,
    }));
    const dflt = this.o.defaultCertificate;
    this.o.store.replace(entries, dflt && { cert: dflt.certPem, key: dflt.keyPem, domains: dflt.names });
    this.signature = signature;
    return true;
  }
}
