/**
 * Certificates for the optional HTTPS listener: one secure context per certificate, chosen by
 * SNI (exact domain, or `*.base` for exactly one label), the first certificate by default.
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

/** The HTTPS listener's options. */
export interface RouterTlsOptions {
  certificates: CertificateFiles[];
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

/** Load the certificates and return the server options with an SNI callback. */
export function loadTls(opts: RouterTlsOptions): tls.TlsOptions {
  if (opts.certificates.length === 0) throw routerErrors.SLIPWAY_ERR_ROUTER_TLS_MISSING();
  const exact = new Map<string, tls.SecureContext>();
  const wildcard = new Map<string, tls.SecureContext>();
  let first: { cert: Buffer; key: Buffer } | undefined;
  for (const c of opts.certificates) {
    const pair = { cert: read(c.cert, 'certificate'), key: read(c.key, 'key') };
    first ??= pair;
    const context = tls.createSecureContext(pair);
    for (const d of c.domains ?? []) {
      if (d.startsWith('*.')) {
        const base = normalizeHost(d.slice(2));
        if (base) wildcard.set(base, context);
      } else {
        const host = normalizeHost(d);
        if (host) exact.set(host, context);
      }
    }
  }
  return {
    ...first!,
    SNICallback(servername, cb) {
      const host = normalizeHost(servername);
      let context = host ? exact.get(host) : undefined;
      if (context === undefined && host) {
        const dot = host.indexOf('.');
        if (dot > 0) context = wildcard.get(host.slice(dot + 1));
      }
      // undefined falls back to the default certificate.
      cb(null, context);
    },
  };
}
