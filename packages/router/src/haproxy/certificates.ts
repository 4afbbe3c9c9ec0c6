/**
 * The TLS certificates of the HAProxy data plane. A starting HAProxy reads them from files and
 * a crt-list; after that they follow the platform's CertificateStore live over the stats
 * socket (`new`/`set`/`commit ssl cert`, `add`/`del ssl crt-list`), without a reload. A pair is
 * named by a digest of its PEM and names, so a change is a new entry added before the old one
 * is removed: a handshake at any moment finds a certificate for its name, and connections
 * already open keep theirs. Only a default certificate appearing or going away is a reload
 * (it switches `strict-sni` on the listener).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { routerErrors } from '../errors.js';
import type { CertificateStore } from '../tls-certificates.js';
import type { StatsSocket } from './stats-socket.js';

/** One certificate file of the crt-list and the names it is served for. */
interface Entry {
  file: string;
  /** Chain and key, PEM, without blank lines (the runtime API ends a payload at one). */
  pem: string;
  sni: readonly string[];
}

const pemOf = (pair: { cert: string | Buffer; key: string | Buffer }): string =>
  `${String(pair.cert).trim()}\n${String(pair.key).trim()}`
    .split('\n')
    .filter((l) => l.trim() !== '')
    .join('\n');

/** The certificates one HAProxy holds, and how to bring them to the store's. */
export class HaproxyCertificates {
  /** Entries HAProxy holds, by file (the default included). */
  private held = new Map<string, Entry>();
  private heldVersion = -1;
  private heldDefault = false;
  /** Files HAProxy refused (told once): left out until the store's pair for them changes. */
  private readonly refused = new Map<string, string>();

  constructor(
    private readonly store: CertificateStore,
    private readonly dir: string,
    private readonly crtList: string,
    private readonly onProblem: (e: unknown) => void = () => undefined,
  ) {}

  /**
   * Leave out a pair HAProxy cannot serve, told once. Node accepts what the system's OpenSSL
   * (Debian: security level 2) refuses, e.g. a 1024-bit RSA key: in the crt-list a starting
   * haproxy would exit, and live it failed every sync, so no app's dynos reached HAProxy.
   */
  private refuse(e: Entry, detail: string): void {
    if (this.refused.get(e.file) === e.pem) return;
    this.refused.set(e.file, e.pem);
    this.onProblem(
      routerErrors.SLIPWAY_ERR_ROUTER_TLS_PAIR({
        domains: e.sni.join(', ') || 'the default certificate',
        detail: `HAProxy refuses it (${detail}); the Node router would serve it, HAProxy serves these names without it`,
      }),
    );
  }

  /** Whether HAProxy is behind the store. */
  get stale(): boolean {
    return this.store.version !== this.heldVersion;
  }

  /** Whether the store has a default certificate (else unknown names get a handshake failure). */
  get hasDefault(): boolean {
    return this.store.defaultCertificate !== undefined;
  }

  /** Whether bringing HAProxy up to date needs a new HAProxy (the default came or went). */
  get needsReload(): boolean {
    return this.hasDefault !== this.heldDefault;
  }

  private wanted(): Entry[] {
    const out: Entry[] = [];
    const def = this.store.defaultCertificate;
    // The default is the crt-list's first line; its file keeps its name, a change is set in place.
    if (def) out.push({ file: join(this.dir, 'default.pem'), pem: pemOf(def), sni: [] });
    for (const e of this.store.entries) {
      const pem = pemOf(e);
      const sni = e.domains.map((d) => d.toLowerCase());
      const digest = createHash('sha256').update(pem).update('\0').update(sni.join(' ')).digest('hex');
      out.push({ file: join(this.dir, `${digest.slice(0, 24)}.pem`), pem, sni });
    }
    return out.filter((e) => {
      const weak = weakKey(e.pem);
      if (weak) this.refuse(e, weak);
      return !weak && this.refused.get(e.file) !== e.pem;
    });
  }

  /** Write the files and the crt-list a starting HAProxy reads. */
  writeFiles(): void {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.heldVersion = this.store.version;
    this.heldDefault = this.hasDefault;
    const entries = this.wanted();
    for (const e of entries) writeFileSync(e.file, `${e.pem}\n`, { mode: 0o600 });
    writeFileSync(this.crtList, `${entries.map((e) => [e.file, ...e.sni].join(' ')).join('\n')}\n`);
    this.held = new Map(entries.map((e) => [e.file, e]));
  }

  /** Bring a running HAProxy to the store's certificates: new entries first, then the old ones go. */
  async apply(socket: StatsSocket): Promise<void> {
    const version = this.store.version;
    const entries = this.wanted();
    const expect = async (command: string, ok: RegExp): Promise<void> => {
      const answer = await socket.run(command);
      if (!ok.test(answer))
        throw routerErrors.SLIPWAY_ERR_ROUTER_DATA_PLANE({
          command: command.split('\n')[0]!.slice(0, 120),
          detail: answer.replace(/\s+/g, ' ').slice(0, 300),
        });
    };
    const load = async (e: Entry): Promise<void> => {
      await expect(`set ssl cert ${e.file} <<\n${e.pem}\n`, /Transaction (created|updated)/);
      await expect(`commit ssl cert ${e.file}`, /Success!/);
    };
    for (const e of entries) {
      const held = this.held.get(e.file);
      if (held?.pem === e.pem) continue;
      try {
        if (held) {
          await load(e); // the default, replaced in place
        } else {
          await expect(`new ssl cert ${e.file}`, /New empty certificate store/);
          await load(e);
          await expect(`add ssl crt-list ${this.crtList} <<\n${[e.file, ...e.sni].join(' ')}\n`, /Success!/);
        }
      } catch (err) {
        // One pair HAProxy will not take must not hold back the others, nor the routes.
        if (!held) await socket.run(`del ssl cert ${e.file}`).catch(() => undefined);
        this.refuse(e, String((err as Error).message ?? err));
        continue;
      }
      this.held.set(e.file, e);
    }
    const keep = new Set(entries.map((e) => e.file));
    for (const file of [...this.held.keys()]) {
      if (keep.has(file)) continue;
      await expect(`del ssl crt-list ${this.crtList} ${file}`, /deleted/);
      await expect(`del ssl cert ${file}`, /deleted/);
      this.held.delete(file);
    }
    this.heldVersion = version;
  }
}

/** Why the system's OpenSSL (security level 2) refuses the pair's key, if it does. */
function weakKey(pem: string): string | undefined {
  try {
    const cert = new X509Certificate(pem);
    const key = cert.publicKey;
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (
      (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'dsa') &&
      bits !== undefined &&
      bits < 2048
    )
      return `a ${bits}-bit ${key.asymmetricKeyType.toUpperCase()} key; use 2048 bits or more`;
  } catch {
    // Node's store has parsed it already; HAProxy's own answer decides.
  }
  return undefined;
}
