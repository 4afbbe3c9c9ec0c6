/**
 * Checking an uploaded (or ACME-issued) certificate before the router may serve it, with
 * node:crypto's X509Certificate: the PEM parses, the key belongs to the leaf, each certificate of
 * the chain issued the one before it, it is valid now, and which host names it covers.
 */
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { certErrors } from './errors.js';

/** A certificate that passed every check, with the facts the API shows. */
export interface CheckedCertificate {
  /** The chain as PEM, leaf first, normalised (one block per certificate). */
  certPem: string;
  keyPem: string;
  /** DNS names it covers (subject alternative names, else the subject's CN). */
  names: string[];
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprint of the leaf, `AB:CD:…`. */
  fingerprint: string;
  /** The leaf signed itself (no authority vouches for it). */
  selfSigned: boolean;
  chainLength: number;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function parseChain(pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT);
  if (!blocks)
    throw certErrors.SLIPWAY_ERR_CERT_PEM({ what: 'certificate', detail: 'no CERTIFICATE block found' });
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw certErrors.SLIPWAY_ERR_CERT_PEM(
        { what: `certificate ${i + 1} of the chain`, detail: (e as Error).message },
        { cause: e },
      );
    }
  });
}

function parseKey(pem: string): KeyObject {
  if (/ENCRYPTED/.test(pem))
    throw certErrors.SLIPWAY_ERR_CERT_PEM({
      what: 'private key',
      detail:
        'it is encrypted with a passphrase (decrypt it first, e.g. `openssl pkey -in key.pem -out plain.pem`)',
    });
  try {
    return createPrivateKey(pem);
  } catch (e) {
    throw certErrors.SLIPWAY_ERR_CERT_PEM(
      { what: 'private key', detail: (e as Error).message },
      { cause: e },
    );
  }
}

/** A distinguished name on one line; ACME CAs issue leaves with an empty subject. */
const dn = (name: string | undefined): string => (name ?? '').replace(/\n/g, ', ');

/** DNS names of a certificate: its subject alternative names, else its subject's CN. */
export function certificateNames(x: X509Certificate): string[] {
  const san = (x.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  if (san.length > 0) return san;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x.subject ?? '')?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

/** Whether one of `names` (exact, or `*.` for exactly one label) matches `host`. */
export function namesCover(names: readonly string[], host: string): boolean {
  const dot = host.indexOf('.');
  return names.some(
    (n) => n === host || (n.startsWith('*.') && dot > 0 && n.slice(2) === host.slice(dot + 1)),
  );
}

/** Check a PEM chain and key; throws the coded error naming the first problem found. */
export function checkCertificate(certPem: string, keyPem: string, now = new Date()): CheckedCertificate {
  const chain = parseChain(certPem);
  const key = parseKey(keyPem);
  const leaf = chain[0]!;
  const names = certificateNames(leaf);
  const shown = names.join(', ') || dn(leaf.subject);
  if (!leaf.checkPrivateKey(key)) throw certErrors.SLIPWAY_ERR_CERT_KEY_MISMATCH({ names: shown });
  for (let i = 1; i < chain.length; i++) {
    const child = chain[i - 1]!;
    const parent = chain[i]!;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey))
      throw certErrors.SLIPWAY_ERR_CERT_CHAIN_ORDER({
        index: i + 1,
        subject: dn(parent.subject),
        issued: dn(child.subject),
      });
  }
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (notAfter.getTime() <= now.getTime())
    throw certErrors.SLIPWAY_ERR_CERT_EXPIRED({ names: shown, date: notAfter.toISOString() });
  if (notBefore.getTime() > now.getTime())
    throw certErrors.SLIPWAY_ERR_CERT_NOT_YET_VALID({ names: shown, date: notBefore.toISOString() });
  return {
    certPem: `${chain.map((c) => c.toString().trim()).join('\n')}\n`,
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    names,
    subject: dn(leaf.subject),
    issuer: dn(leaf.issuer),
    notBefore,
    notAfter,
    fingerprint: createHash('sha256').update(leaf.raw).digest('hex').toUpperCase().match(/../g)!.join(':'),
    selfSigned: leaf.checkIssued(leaf) && leaf.verify(leaf.publicKey),
    chainLength: chain.length,
  };
}
