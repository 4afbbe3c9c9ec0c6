/**
 * What the platform process wires for HTTPS: the router's live certificate store (with the
 * base domain's certificate from the config as its default), the certificate and ACME
 * services, and the two router plugins on the `route` hook (http-01 answers, then the per-app
 * redirect/HSTS policy). Settings come from `PlatformOptions.https` and the config file's
 * `platform.https` / `platform.acme` sections (paths there are relative to the config file).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { clockRef, type Kernel } from '@slipway/core';
import { acmeChallengePlugin, CertificateStore, httpsPolicyPlugin } from '@slipway/router';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';
import { type AcmeOptions, AcmeService } from './acme-service.js';
import { type CheckedCertificate, checkCertificate } from './cert-check.js';
import { CertService } from './cert-service.js';
import { certErrors } from './errors.js';

/** HTTPS settings of the platform. */
export interface PlatformHttpsOptions {
  /** HTTPS port of the router; default 5443 (any free port when the HTTP port is 0); false = none. */
  port?: number | false;
  /** The HTTPS port clients use, when a forwarder sits in front (443 → 5443): redirect URLs name it. */
  publicPort?: number;
  /** PEM chain of the base domain's (wildcard) certificate: served for `<app>.<base>` and by default. */
  certificate?: string;
  /** Its PEM private key. */
  key?: string;
  /** ACME settings of automated certificates; `caFile` is read into `caCert`. */
  acme?: AcmeOptions & { caFile?: string };
}

/** Inputs of `startHttps`. */
export interface HttpsWiringOptions {
  kernel: Kernel;
  state: SqliteStateStore;
  event(app: string, message: string): void;
  options: PlatformHttpsOptions;
  /** Relative paths of the options resolve from here (the config file's directory). */
  baseDir: string;
}

/** The HTTPS parts of a running platform. */
export interface HttpsWiring {
  readonly store: CertificateStore;
  readonly certs: CertService;
  readonly acme: AcmeService;
  /** Set once the router's HTTPS listener is bound. */
  port: number | undefined;
  /** After every API change: re-read certificates and policies, look at ACM domains. */
  refresh(): void;
  close(): void;
}

function readPem(file: string, what: string, baseDir: string): string {
  const path = isAbsolute(file) ? file : resolve(baseDir, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw certErrors.SLIPWAY_ERR_CERT_PEM(
      { what: `${what} file ${path}`, detail: (e as Error).message },
      { cause: e },
    );
  }
}

/** Merge the config file's `platform.https`/`platform.acme` under the programmatic options. */
export function httpsOptionsOf(
  platform: Record<string, unknown> | undefined,
  given: PlatformHttpsOptions = {},
) {
  const file = (platform?.https ?? {}) as PlatformHttpsOptions;
  const acme = { ...(platform?.acme as AcmeOptions | undefined), ...file.acme, ...given.acme };
  return { ...file, ...given, acme };
}

/** Build the store and services and install the router plugins on the kernel. */
export async function startHttps(o: HttpsWiringOptions): Promise<HttpsWiring> {
  const { options, baseDir } = o;
  for (const field of ['port', 'publicPort'] as const) {
    const v = options[field];
    if (
      v !== undefined &&
      v !== false &&
      !(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535)
    )
      throw certErrors.SLIPWAY_ERR_CERT_HTTPS_CONFIG({
        field,
        detail: `must be a port number (0 = any free port${field === 'port' ? ', false = no HTTPS' : ''}), not ${JSON.stringify(v)}`,
      });
  }
  let defaultCertificate: CheckedCertificate | undefined;
  if (options.certificate || options.key) {
    if (!options.certificate || !options.key)
      throw certErrors.SLIPWAY_ERR_CERT_HTTPS_CONFIG({
        field: options.certificate ? 'key' : 'certificate',
        detail: 'is missing: give both the base domain certificate and its key',
      });
    defaultCertificate = checkCertificate(
      readPem(options.certificate, 'certificate', baseDir),
      readPem(options.key, 'key', baseDir),
    );
  }
  const { caFile, ...acmeOptions } = options.acme ?? {};
  const store = new CertificateStore();
  const rulesChanged = (): void => o.kernel.hooks.routeRulesChanged.call();
  let port: number | undefined;
  const certs = new CertService({
    state: o.state,
    store,
    ...(defaultCertificate ? { defaultCertificate } : {}),
    httpsPort: () => options.publicPort ?? port,
    rulesChanged,
  });
  const clock = o.kernel.tryResolve(clockRef);
  const acme = new AcmeService({
    ...acmeOptions,
    ...(caFile ? { caCert: readPem(caFile, 'ACME CA', baseDir) } : {}),
    state: o.state,
    certs,
    event: o.event,
    rulesChanged,
    ...(clock ? { clock } : {}),
  });
  certs.refresh();
  if (!o.kernel.plugins.includes(acmeChallengePlugin.name))
    await o.kernel.use(acmeChallengePlugin, { challenges: acme });
  if (!o.kernel.plugins.includes(httpsPolicyPlugin.name))
    await o.kernel.use(httpsPolicyPlugin, { source: certs });
  return {
    store,
    certs,
    acme,
    get port() {
      return port;
    },
    set port(p) {
      port = p;
      // Redirects name the port.
      rulesChanged();
    },
    refresh() {
      certs.refresh();
      acme.kick();
    },
    close: () => acme.close(),
  };
}
