/**
 * Certificates of the HTTPS listener, chosen by SNI: an exact host name first, then a wildcard
 * (`*.base`, exactly one label), then the store's default certificate if it has one. A name the
 * store does not know gets the default or, without one, a TLS `handshake_failure` alert: never
 * a certificate issued for someone else's name. The store can be replaced while the router runs
 * (uploads, ACME renewals): a handshake uses the contexts of the moment, connections already
 * open keep theirs, so a swap drops nothing.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { routerErrors } from './errors.js';
import { normalizeHost } from './host.js';

/** One certificate/key pair (PEM files) and the domains it serves. */
export interface CertificateFiles {
  /** Path of the PEM certificate (chain). */
  cert: string;
  /** Path of the PEM private key. */
  key: string;
  /** Host names it serves (`app.example.com`, `*.apps.example.com`); the first pair is the default. */
  domains?: string[];
}

/** One certificate chain and key in PEM, and the host names the router serves it for. */
export interface CertificatePem {
  cert: string | Buffer;
  key: string | Buffer;
  /** `app.example.com` or `*.apps.example.com` (one label). */
  domains: readonly string[];
}

/** The HTTPS listener's options: certificate files (the first is the default), or a live store. */
export interface RouterTlsOptions {
  certificates?: CertificateFiles[];
  store?: CertificateStore;
}

/** Host names → TLS contexts, replaceable at run time; `lookup` is a map read per handshake. */
export class CertificateStore {
  private exact = new Map<string, tls.SecureContext>();
  private wildcard = new Map<string, tls.SecureContext>();
  private fallback: tls.SecureContext | undefined;
  private defaultPem: { cert: string | Buffer; key: string | Buffer } | undefined;
  private pems: readonly CertificatePem[] = [];
  private changes = 0;

  /**
   * Serve exactly `entries` from now on (and `defaultCert`, if given, for unknown names and
   * clients without SNI). Throws (and keeps the previous set) when a pair is unusable.
   */
  replace(entries: readonly CertificatePem[], defaultCert?: CertificatePem): void {
    const exact = new Map<string, tls.SecureContext>();
    const wildcard = new Map<string, tls.SecureContext>();
    const add = (e: CertificatePem): tls.SecureContext => {
      let context: tls.SecureContext;
      try {
        context = tls.createSecureContext({ cert: e.cert, key: e.key });
      } catch (err) {
        throw routerErrors.SLIPWAY_ERR_ROUTER_TLS_PAIR(
          { domains: e.domains.join(', ') || '(default)', detail: (err as Error).message },
          { cause: err },
        );
      }
      for (const d of e.domains) {
        if (d.startsWith('*.')) {
          const base = normalizeHost(d.slice(2));
          if (base && !wildcard.has(base)) wildcard.set(base, context);
        } else {
          const host = normalizeHost(d);
          if (host && !exact.has(host)) exact.set(host, context);
        }
      }
      return context;
    };
    const fallback = defaultCert ? add(defaultCert) : undefined;
    for (const e of entries) add(e);
    this.exact = exact;
    this.wildcard = wildcard;
    this.fallback = fallback;
    this.defaultPem = defaultCert && { cert: defaultCert.cert, key: defaultCert.key };
    this.pems = [...entries];
    this.changes++;
  }

  /** The pairs served by name (without the default), as last given to `replace`. */
  get entries(): readonly CertificatePem[] {
    return this.pems;
  }

  /** Counts `replace` calls: another data plane (HAProxy) reloads its certificates when it moves. */
  get version(): number {
    return this.changes;
  }

  /** The context for an SNI name: exact, wildcard, then the default (undefined: none). */
  lookup(servername: string): tls.SecureContext | undefined {
    return this.match(servername) ?? this.fallback;
  }

  /** Whether `host` has a certificate of its own or a wildcard's (the default does not count). */
  covers(host: string): boolean {
    return this.match(host) !== undefined;
  }

  /** The default pair (clients without SNI), if any. */
  get defaultCertificate(): { cert: string | Buffer; key: string | Buffer } | undefined {
    return this.defaultPem;
  }

  private match(name: string): tls.SecureContext | undefined {
    const host = normalizeHost(name);
    if (!host) return undefined;
    const hit = this.exact.get(host);
    if (hit !== undefined) return hit;
    const dot = host.indexOf('.');
    return dot > 0 ? this.wildcard.get(host.slice(dot + 1)) : undefined;
  }
}

function read(file: string, kind: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw routerErrors.SLIPWAY_ERR_ROUTER_TLS_FILE(
      { kind, file, detail: (e as Error).message },
      { cause: e },
    );
  }
}

/** The store of the options: the live one, or one loaded from files (the first pair is the default). */
export function tlsStore(opts: RouterTlsOptions): CertificateStore {
  if (opts.store) return opts.store;
  const files = opts.certificates ?? [];
  if (files.length === 0) throw routerErrors.SLIPWAY_ERR_ROUTER_TLS_MISSING();
  const pems = files.map((c) => ({
    cert: read(c.cert, 'certificate'),
    key: read(c.key, 'key'),
    domains: c.domains ?? [],
  }));
  const store = new CertificateStore();
  store.replace(pems.slice(1), pems[0]);
  return store;
}

/** Server options whose SNI callback asks the store at each handshake. */
export function tlsServerOptions(store: CertificateStore): tls.TlsOptions {
  return {
    ...store.defaultCertificate,
    SNICallback(servername, cb) {
      // undefined falls back to the server's default context: the default pair, or none (alert).
      cb(null, store.lookup(servername));
    },
  };
}
