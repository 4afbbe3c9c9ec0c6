/**
 * `certs`, `certs:add CERT KEY`, `certs:info`, `certs:remove` (uploaded SNI certificates),
 * `certs:auto[:enable|:disable|:refresh]` (automated certificates over ACME, Heroku's ACM) and
 * `https`, `https:redirect:on|off`, `https:hsts:on|off` (the app's HTTPS policy).
 */
import { readFile } from 'node:fs/promises';
import { defineErrors } from '@slipway/core';
import type { Command } from 'commander';
import { appVerb, type ClientOptions, clientFor, out, printJson, requireApp, table } from '../api-client.js';
import type { CommandModule } from './index.js';

interface Cert {
  name: string;
  source: string;
  domains: string[];
  ssl_cert: {
    cert_domains: string[];
    expires_at: string;
    starts_at: string;
    issuer: string;
    subject: string;
    self_signed: boolean;
    fingerprint: string;
  };
}

interface AcmStatus {
  acm: boolean;
  domains: {
    hostname: string;
    status: string;
    reason?: string;
    attempts: number;
    nextAttemptAt?: string;
    expiresAt?: string;
  }[];
}

/** Usage errors of the certificate verbs. */
export const certCliErrors = defineErrors({
  SLIPWAY_ERR_CLI_CERT_FILE: {
    message: 'cannot read the {what} file {file}: {detail}',
    hint: 'Pass the path of a PEM {what} file.',
    status: 400,
  },
  SLIPWAY_ERR_CLI_HSTS_MAX_AGE: {
    message: '--max-age must be a whole number of seconds, not "{value}"',
    hint: 'Pass e.g. --max-age 31536000 (one year).',
    status: 400,
  },
});

const appPath = (o: ClientOptions, rest = '') => `/apps/${encodeURIComponent(requireApp(o))}${rest}`;

async function readPemFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw certCliErrors.SLIPWAY_ERR_CLI_CERT_FILE({ what, file, detail: (e as Error).message }, { cause: e });
  }
}

function showCert(c: Cert): void {
  out(`=== ${c.name} (${c.source === 'acme' ? 'automated' : 'uploaded'})`);
  table([
    ['Common Name(s):', c.ssl_cert.cert_domains.join(', ')],
    ['Serving:', c.domains.join(', ') || '(no custom domain of the app)'],
    ['Expires At:', c.ssl_cert.expires_at],
    ['Issuer:', c.ssl_cert.issuer],
    ['Starts At:', c.ssl_cert.starts_at],
    ['Subject:', c.ssl_cert.subject],
    ['SSL certificate is self signed.', c.ssl_cert.self_signed ? 'yes' : 'no'],
    ['Fingerprint (SHA-256):', c.ssl_cert.fingerprint],
  ]);
}

function showAcm(app: string, s: AcmStatus): void {
  out(`=== Automatic Certificate Management is ${s.acm ? 'enabled' : 'disabled'} on ${app}`);
  if (!s.domains.length) return;
  table([
    ['Domain', 'Status', 'Expires', 'Reason'],
    ...s.domains.map((d) => [
      d.hostname,
      d.status,
      d.expiresAt ?? '',
      d.reason ? `${d.reason} (attempt ${d.attempts}, next ${d.nextAttemptAt ?? 'soon'})` : '',
    ]),
  ]);
}

/** Certificate and HTTPS verbs. */
export const certsCommands: CommandModule = {
  register(program: Command) {
    appVerb(program.command('certs').description("list an app's SSL certificates")).action(
      async (o: ClientOptions) => {
        const certs = await clientFor(o).json<Cert[]>('GET', appPath(o, '/sni-endpoints'));
        if (printJson(o, certs)) return;
        if (!certs.length) return out(`${requireApp(o)} has no SSL certificates.`);
        table([
          ['Name', 'Common Name(s)', 'Serving', 'Expires', 'Trusted', 'Type'],
          ...certs.map((c) => [
            c.name,
            c.ssl_cert.cert_domains.join(', '),
            c.domains.join(', '),
            c.ssl_cert.expires_at,
            c.ssl_cert.self_signed ? 'False' : 'True',
            c.source === 'acme' ? 'ACM' : 'SNI',
          ]),
        ]);
      },
    );
    appVerb(
      program
        .command('certs:add')
        .argument('<cert>', 'PEM certificate chain file (leaf first)')
        .argument('<key>', 'PEM private key file')
        .option('--domain <host>', 'serve it only for this custom domain')
        .description('upload an SSL certificate and key; served at once for the custom domains it covers'),
    ).action(async (certFile: string, keyFile: string, o: ClientOptions & { domain?: string }) => {
      const body = {
        certificate_chain: await readPemFile(certFile, 'certificate'),
        private_key: await readPemFile(keyFile, 'private key'),
        ...(o.domain ? { domain: o.domain } : {}),
      };
      const c = await clientFor(o).json<Cert>('POST', appPath(o, '/sni-endpoints'), body);
      if (printJson(o, c)) return;
      out(`Adding SSL certificate to ${requireApp(o)}... done`);
      showCert(c);
    });
    appVerb(
      program
        .command('certs:info')
        .option('--name <name>', 'which certificate (default: the only one)')
        .description('show an SSL certificate'),
    ).action(async (o: ClientOptions & { name?: string }) => {
      const c = await clientFor(o).json<Cert>(
        'GET',
        appPath(o, `/sni-endpoints/${encodeURIComponent(o.name ?? '-')}`),
      );
      if (printJson(o, c)) return;
      showCert(c);
    });
    appVerb(
      program
        .command('certs:remove')
        .option('--name <name>', 'which certificate (default: the only one)')
        .description('remove an SSL certificate; its domains get the default certificate'),
    ).action(async (o: ClientOptions & { name?: string }) => {
      const c = await clientFor(o).json<Cert>(
        'DELETE',
        appPath(o, `/sni-endpoints/${encodeURIComponent(o.name ?? '-')}`),
      );
      if (printJson(o, c)) return;
      out(`Removing SSL certificate ${c.name} from ${requireApp(o)}... done`);
    });

    const acm = (verb: string, method: string, description: string, body?: unknown) =>
      appVerb(program.command(verb).description(description)).action(async (o: ClientOptions) => {
        const s = await clientFor(o).json<AcmStatus>(method, appPath(o, '/acm'), body);
        if (printJson(o, s)) return;
        if (method === 'DELETE')
          return out(`Disabling Automatic Certificate Management for ${requireApp(o)}... done`);
        if (method === 'POST') out(`Enabling Automatic Certificate Management for ${requireApp(o)}... done`);
        showAcm(requireApp(o), s);
      });
    acm('certs:auto', 'GET', 'show the status of automated certificates per custom domain');
    acm('certs:auto:enable', 'POST', "obtain and renew certificates for the app's custom domains over ACME");
    acm('certs:auto:refresh', 'PATCH', 'renew the automated certificates now', { refresh: true });
    acm('certs:auto:disable', 'DELETE', 'stop automated certificates and remove them');

    const https = (verb: string, description: string, change: Record<string, unknown> | undefined) =>
      appVerb(program.command(verb).description(description)).action(
        async (o: ClientOptions & { maxAge?: string }) => {
          let body = change;
          if (o.maxAge !== undefined) {
            const n = Number(o.maxAge);
            if (!Number.isInteger(n) || n < 0)
              throw certCliErrors.SLIPWAY_ERR_CLI_HSTS_MAX_AGE({ value: o.maxAge });
            body = { hsts_max_age: n };
          }
          const s = await clientFor(o).json<{ redirect: boolean; hsts_max_age: number | null; acm: boolean }>(
            body ? 'PATCH' : 'GET',
            appPath(o, '/https'),
            body,
          );
          if (printJson(o, s)) return;
          table([
            ['Redirect HTTP to HTTPS:', s.redirect ? 'on' : 'off'],
            ['HSTS:', s.hsts_max_age === null ? 'off' : `max-age=${s.hsts_max_age}`],
            ['Automated certificates:', s.acm ? 'on' : 'off'],
          ]);
        },
      );
    https('https', "show the app's HTTPS policy", undefined);
    https('https:redirect:on', 'redirect plain HTTP requests to HTTPS (308) for hosts with a certificate', {
      redirect: true,
    });
    https('https:redirect:off', 'stop redirecting HTTP to HTTPS', { redirect: false });
    https('https:hsts:on', 'send Strict-Transport-Security on HTTPS answers', {
      hsts_max_age: 31_536_000,
    }).option('--max-age <seconds>', 'HSTS max-age (default one year)');
    https('https:hsts:off', 'stop sending Strict-Transport-Security', { hsts_max_age: null });
  },
};
