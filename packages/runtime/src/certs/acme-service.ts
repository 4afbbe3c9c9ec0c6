/**
 * Automated certificates (Heroku's ACM) over ACME http-01 with `acme-client`: one certificate
 * per custom domain of each app that enabled it, obtained when missing and renewed 30 days
 * before expiry. The challenge answers are served by the router's `acmeChallengePlugin` from
 * `keyAuthorization()`. A failure is kept as the domain's status, with the CA's own words and
 * what to fix, and retried with exponential back-off. Timers go through the kernel's Clock;
 * orders run one at a time.
 */
import https from 'node:https';
import { type Clock, systemClock } from '@slipway/core';
import type { AcmeChallenges } from '@slipway/router';
import acme from 'acme-client';
import type { AppRecord } from '../state/records.js';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';
import { checkCertificate } from './cert-check.js';
import type { CertService } from './cert-service.js';
import { certErrors } from './errors.js';

/** Let's Encrypt's production directory, the default. */
export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

/** ACME settings of the platform (`platform.acme` in the config file). */
export interface AcmeOptions {
  /** ACME directory URL; default Let's Encrypt's. */
  directoryUrl?: string;
  /** Contact address of the ACME account. */
  email?: string;
  /** PEM CA certificate(s) trusted for the ACME server's own HTTPS (a private CA, Pebble in tests). */
  caCert?: string;
  /** Renew this long before expiry; default 30 days. */
  renewBeforeMs?: number;
  /** First retry after a failure; doubles up to `retryMaxMs`. Default 1 min. */
  retryBaseMs?: number;
  /** Longest wait between retries; default 6 h. */
  retryMaxMs?: number;
  /** Look at every domain at least this often; default 12 h. */
  checkEveryMs?: number;
  /** First poll interval of a pending order (acme-client back-off); default 3 s. */
  pollMs?: number;
}

/** ACM state of one custom domain, as `certs:auto` shows it. */
export interface AcmeDomainStatus {
  hostname: string;
  /** `cert issued`, `pending` (being obtained or waiting its turn) or `failing` (see `reason`). */
  status: 'cert issued' | 'pending' | 'failing';
  reason?: string;
  /** Failed attempts in a row. */
  attempts: number;
  /** When a failing domain is tried again. */
  nextAttemptAt?: string;
  expiresAt?: string;
}

interface DomainState {
  status: AcmeDomainStatus['status'];
  reason?: string;
  attempts: number;
  nextAttemptAt?: number;
  forced?: boolean;
}

/** Inputs of the ACME service. */
export interface AcmeServiceOptions extends AcmeOptions {
  state: SqliteStateStore;
  certs: CertService;
  clock?: Clock;
  /** Told when a challenge answer comes or goes (they are route rules of the app's host). */
  rulesChanged?: () => void;
  /** Platform events of an app (`slipway logs`). */
  event(app: string, message: string): void;
}

const DAY = 86_400_000;

/** How long a new http-01 answer is given to reach the router's data plane (ms). */
const CHALLENGE_SETTLE_MS = 300;

/** Obtains and renews certificates; answers http-01 challenges while an order is pending. */
export class AcmeService implements AcmeChallenges {
  private readonly pending = new Map<string, string>();
  private readonly domains = new Map<string, DomainState>();
  private readonly clock: Clock;
  private readonly directoryUrl: string;
  private client: acme.Client | undefined;
  private timer: { cancel(): void } | undefined;
  private running = false;
  private started = false;
  private again = false;
  private closed = false;

  constructor(private readonly o: AcmeServiceOptions) {
    this.clock = o.clock ?? systemClock;
    this.directoryUrl = o.directoryUrl ?? LETS_ENCRYPT_DIRECTORY;
    // acme-client talks through its own axios instance: trusting a private ACME CA there
    // affects no other HTTPS client of the platform.
    if (o.caCert) acme.axios.defaults.httpsAgent = new https.Agent({ ca: o.caCert, keepAlive: true });
  }

  /** The answer to a pending http-01 challenge (for the router's `acmeChallengePlugin`). */
  keyAuthorization(host: string, token: string): string | undefined {
    return this.pending.get(`${host} ${token}`);
  }

  /** The pending http-01 challenges of `host` as [token, answer] (for the router's route rules). */
  *challengesFor(host: string): Iterable<readonly [string, string]> {
    for (const [k, v] of this.pending) if (k.startsWith(`${host} `)) yield [k.slice(host.length + 1), v];
  }

  /** Start looking at domains (once the router listens, so that challenges can be answered). */
  start(): void {
    this.started = true;
    this.kick();
  }

  /** Look at every enabled app soon (enable, a new domain); nothing before `start`. */
  kick(delayMs = 0): void {
    if (this.closed || !this.started) return;
    this.timer?.cancel();
    this.timer = this.clock.setTimeout(() => {
      // Only a platform error can get here (each order catches its own): say it, never crash.
      this.tick().catch((e) => {
        if (this.closed) return;
        console.error(`slipway acme: ${(e as Error).message}`);
        this.kick(this.o.retryBaseMs ?? 60_000);
      });
    }, delayMs);
  }

  /** Turn ACM on for an app; certificates are obtained in the background. */
  enable(app: AppRecord): AcmeDomainStatus[] {
    if (this.o.state.domains(app.id).length === 0)
      throw certErrors.SLIPWAY_ERR_CERT_ACME_NO_DOMAINS({ app: app.name });
    this.o.certs.setSettings(app, { acm: true });
    this.o.event(app.name, `Enabled automated certificates (${this.directoryUrl})`);
    this.kick();
    return this.status(app);
  }

  /** Turn ACM off: its certificates are removed, as Heroku does. */
  disable(app: AppRecord): void {
    this.o.certs.table.removeSource(app.id, 'acme');
    this.o.certs.setSettings(app, { acm: false });
    for (const k of [...this.domains.keys()]) if (k.startsWith(`${app.id} `)) this.domains.delete(k);
    this.o.event(app.name, 'Disabled automated certificates');
  }

  /** Renew every domain of the app now, whatever their expiry (`certs:auto:refresh`). */
  refresh(app: AppRecord): AcmeDomainStatus[] {
    if (!this.o.certs.table.settings(app.id).acm)
      throw certErrors.SLIPWAY_ERR_CERT_ACME_OFF({ app: app.name });
    for (const d of this.o.state.domains(app.id)) {
      const st = this.state(app.id, d.hostname);
      st.forced = true;
      st.status = 'pending';
    }
    this.kick();
    return this.status(app);
  }

  /** ACM status of each custom domain of the app. */
  status(app: AppRecord): AcmeDomainStatus[] {
    const certs = this.o.certs.table.certificates(app.id);
    return this.o.state.domains(app.id).map((d) => {
      const st = this.domains.get(`${app.id} ${d.hostname}`);
      const cert = certs.find((c) => c.name === `acm-${d.hostname}`);
      return {
        hostname: d.hostname,
        status: st?.status ?? (cert ? 'cert issued' : 'pending'),
        ...(st?.reason ? { reason: st.reason } : {}),
        attempts: st?.attempts ?? 0,
        ...(st?.nextAttemptAt ? { nextAttemptAt: new Date(st.nextAttemptAt).toISOString() } : {}),
        ...(cert ? { expiresAt: cert.notAfter } : {}),
      };
    });
  }

  /** Stop the timers; an order under way finishes without effect. */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
  }

  private state(appId: string, host: string): DomainState {
    const k = `${appId} ${host}`;
    let st = this.domains.get(k);
    if (!st) {
      st = { status: 'pending', attempts: 0 };
      this.domains.set(k, st);
    }
    return st;
  }

  private async tick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    const renewBefore = this.o.renewBeforeMs ?? 30 * DAY;
    let next = this.clock.now() + (this.o.checkEveryMs ?? DAY / 2);
    try {
      do {
        this.again = false;
        const settings = this.o.certs.table.allSettings();
        for (const app of this.o.state.listApps()) {
          if (!settings.get(app.id)?.acm) continue;
          const certs = this.o.certs.table.certificates(app.id);
          for (const d of this.o.state.domains(app.id)) {
            if (this.closed) return;
            const st = this.state(app.id, d.hostname);
            const cert = certs.find((c) => c.name === `acm-${d.hostname}`);
            const renewAt = cert ? Date.parse(cert.notAfter) - renewBefore : 0;
            const now = this.clock.now();
            if (!st.forced && cert && renewAt > now) {
              st.status = 'cert issued';
              next = Math.min(next, renewAt);
              continue;
            }
            if (!st.forced && st.nextAttemptAt !== undefined && st.nextAttemptAt > now) {
              next = Math.min(next, st.nextAttemptAt);
              continue;
            }
            await this.issue(app, d.hostname, st);
            if (st.nextAttemptAt !== undefined) next = Math.min(next, st.nextAttemptAt);
          }
        }
      } while (this.again && !this.closed);
    } finally {
      this.running = false;
    }
    if (!this.closed) this.kick(Math.max(0, next - this.clock.now()));
  }

  private async issue(app: AppRecord, host: string, st: DomainState): Promise<void> {
    st.status = 'pending';
    st.forced = false;
    let chain: string;
    let key: Buffer;
    try {
      const client = await this.acmeClient();
      let csr: Buffer;
      [key, csr] = await acme.crypto.createCsr(
        { commonName: host, altNames: [host] },
        await acme.crypto.createPrivateEcdsaKey(),
      );
      chain = await client.auto({
        csr,
        ...(this.o.email ? { email: this.o.email } : {}),
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        // The CA validates through the router; acme-client's own pre-check would need public DNS.
        skipChallengeVerification: true,
        challengeCreateFn: async (authz, challenge, keyAuthorization) => {
          this.pending.set(`${authz.identifier.value} ${challenge.token}`, keyAuthorization);
          this.o.rulesChanged?.();
          // The HAProxy data plane applies it as a route rule on that announcement, over its
          // stats socket: let that happen before the CA is told to look.
          await new Promise<void>((r) => this.clock.setTimeout(r, CHALLENGE_SETTLE_MS));
        },
        challengeRemoveFn: async (authz, challenge) => {
          this.pending.delete(`${authz.identifier.value} ${challenge.token}`);
          this.o.rulesChanged?.();
        },
      });
    } catch (e) {
      this.failed(app, st, explain(host, e, this.directoryUrl));
      return;
    }
    // The platform may have stopped, or ACM been turned off (or the domain removed), meanwhile.
    if (
      this.closed ||
      !this.o.certs.table.settings(app.id).acm ||
      !this.o.state.domains(app.id).some((d) => d.hostname === host)
    )
      return;
    try {
      const checked = checkCertificate(chain, key.toString());
      this.o.certs.table.put(app.id, `acm-${host}`, 'acme', host, checked);
      this.o.certs.refresh();
      st.status = 'cert issued';
      st.attempts = 0;
      delete st.reason;
      delete st.nextAttemptAt;
      this.o.event(
        app.name,
        `ACM: certificate for ${host} issued by ${checked.issuer}, valid until ${checked.notAfter.toISOString()}`,
      );
    } catch (e) {
      this.failed(app, st, `the certificate the CA issued for ${host} was refused: ${(e as Error).message}`);
    }
  }

  private failed(app: AppRecord, st: DomainState, reason: string): void {
    st.attempts++;
    const base = this.o.retryBaseMs ?? 60_000;
    const delay = Math.min(base * 2 ** (st.attempts - 1), this.o.retryMaxMs ?? DAY / 4);
    st.status = 'failing';
    st.nextAttemptAt = this.clock.now() + delay;
    st.reason = reason;
    this.o.event(app.name, `ACM: ${reason} (attempt ${st.attempts}; next in ${Math.round(delay / 1000)} s)`);
  }

  private async acmeClient(): Promise<acme.Client> {
    if (this.client) return this.client;
    const accountKey = await this.o.certs.table.accountKey(this.directoryUrl, async () =>
      (await acme.crypto.createPrivateEcdsaKey()).toString(),
    );
    const poll = this.o.pollMs ?? 3000;
    this.client = new acme.Client({
      directoryUrl: this.directoryUrl,
      accountKey,
      backoffMin: poll,
      backoffMax: Math.max(poll * 10, 30_000),
    });
    return this.client;
  }
}

/** A failure in words a user can act on: the CA's own detail and the usual fix. */
function explain(host: string, e: unknown, directoryUrl: string): string {
  const detail = (e as Error).message || String(e);
  const code = (e as NodeJS.ErrnoException).code;
  if (code && /^E[A-Z]+$/.test(code))
    return `the ACME server ${directoryUrl} could not be reached (${code}: ${detail}); check the platform's acme.directoryUrl and its network`;
  return `${host} could not be validated: ${detail}. Point ${host}'s DNS at this platform and let port 80 reach its router`;
}
