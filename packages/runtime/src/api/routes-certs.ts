/**
 * Routes of app certificates, shaped after Heroku's SNI endpoints and ACM: upload, list, show
 * and remove certificates (`/apps/:app/sni-endpoints`), automated certificates
 * (`/apps/:app/acm`: enable, status, refresh, disable) and the app's HTTPS policy
 * (`/apps/:app/https`: redirect to HTTPS, HSTS). Private keys are accepted, never returned.
 */
import type { AcmeService } from '../certs/acme-service.js';
import type { CertService } from '../certs/cert-service.js';
import type { CertificateRecord, HttpsSettings } from '../certs/cert-table.js';
import type { AppRecord } from '../state/records.js';
import { type RouteRegistrar, readJson, sendJson } from './http-util.js';
import type { ApiContext } from './server.js';

/** What the certificate routes drive; absent = the routes are not registered. */
export interface CertRoutesOptions {
  certs: CertService;
  acme: AcmeService;
}

const uploadSchema = {
  type: 'object',
  required: ['certificate_chain', 'private_key'],
  additionalProperties: false,
  properties: {
    certificate_chain: { type: 'string', minLength: 1, maxLength: 262_144 },
    private_key: { type: 'string', minLength: 1, maxLength: 65_536 },
    domain: { type: 'string', minLength: 1, maxLength: 253 },
  },
} as const;

const httpsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    redirect: { type: 'boolean' },
    hsts_max_age: { anyOf: [{ type: 'integer', minimum: 0, maximum: 63_072_000 }, { type: 'null' }] },
  },
} as const;

const acmPatchSchema = {
  type: 'object',
  required: ['refresh'],
  additionalProperties: false,
  properties: { refresh: { const: true } },
} as const;

const renderCert = (a: AppRecord, c: CertificateRecord, served: string[]) => ({
  id: c.id,
  name: c.name,
  app: { id: a.id, name: a.name },
  source: c.source,
  certificate_chain: c.certPem,
  domains: served,
  ssl_cert: {
    cert_domains: c.names,
    starts_at: c.notBefore,
    expires_at: c.notAfter,
    issuer: c.issuer,
    subject: c.subject,
    self_signed: c.selfSigned,
    fingerprint: c.fingerprint,
  },
  created_at: c.createdAt,
  updated_at: c.updatedAt,
});

const renderHttps = (s: HttpsSettings) => ({ redirect: s.redirect, hsts_max_age: s.hstsMaxAge, acm: s.acm });

/** Register the certificate routes. */
export function registerCertRoutes(on: RouteRegistrar, ctx: ApiContext, o: CertRoutesOptions): void {
  const { state } = ctx;
  const app = (p: Record<string, string>): AppRecord => state.app(p.app as string);
  const { certs, acme } = o;

  on('GET', '/apps/:app/sni-endpoints', async (_q, res, p) => {
    const a = app(p);
    sendJson(
      res,
      200,
      certs.table.certificates(a.id).map((c) => renderCert(a, c, certs.servedBy(c))),
    );
  });
  on('POST', '/apps/:app/sni-endpoints', async (req, res, p) => {
    const a = app(p);
    const body = await readJson<{ certificate_chain: string; private_key: string; domain?: string }>(
      req,
      uploadSchema,
      'POST /apps/:app/sni-endpoints',
      512 * 1024,
    );
    const c = certs.add(a, body.certificate_chain, body.private_key, body.domain);
    ctx.releases.event(a.name, `Added certificate ${c.name} for ${certs.servedBy(c).join(', ')}`);
    sendJson(res, 201, renderCert(a, c, certs.servedBy(c)));
  });
  on('GET', '/apps/:app/sni-endpoints/:name', async (_q, res, p) => {
    const a = app(p);
    const c = certs.get(a, p.name === '-' ? undefined : p.name);
    sendJson(res, 200, renderCert(a, c, certs.servedBy(c)));
  });
  on('DELETE', '/apps/:app/sni-endpoints/:name', async (_q, res, p) => {
    const a = app(p);
    const c = certs.remove(a, p.name === '-' ? undefined : p.name);
    ctx.releases.event(a.name, `Removed certificate ${c.name}`);
    sendJson(res, 200, renderCert(a, c, []));
  });

  on('GET', '/apps/:app/acm', async (_q, res, p) => {
    const a = app(p);
    sendJson(res, 200, { acm: certs.table.settings(a.id).acm, domains: acme.status(a) });
  });
  on('POST', '/apps/:app/acm', async (_q, res, p) => {
    const a = app(p);
    sendJson(res, 200, { acm: true, domains: acme.enable(a) });
  });
  on('PATCH', '/apps/:app/acm', async (req, res, p) => {
    const a = app(p);
    await readJson(req, acmPatchSchema, 'PATCH /apps/:app/acm');
    sendJson(res, 200, { acm: true, domains: acme.refresh(a) });
  });
  on('DELETE', '/apps/:app/acm', async (_q, res, p) => {
    const a = app(p);
    acme.disable(a);
    sendJson(res, 200, { acm: false, domains: [] });
  });

  on('GET', '/apps/:app/https', async (_q, res, p) => {
    sendJson(res, 200, renderHttps(certs.table.settings(app(p).id)));
  });
  on(
    'PATCH',
    '/apps/:app/https',
    async (_req, res, p, _u, b) => {
      const a = app(p);
      const body = b as { redirect?: boolean; hsts_max_age?: number | null };
      const s = certs.setSettings(a, {
        ...(body.redirect !== undefined ? { redirect: body.redirect } : {}),
        ...(body.hsts_max_age !== undefined ? { hstsMaxAge: body.hsts_max_age } : {}),
      });
      ctx.releases.event(
        a.name,
        `HTTPS: redirect ${s.redirect ? 'on' : 'off'}, HSTS ${s.hstsMaxAge === null ? 'off' : `max-age=${s.hstsMaxAge}`}`,
      );
      sendJson(res, 200, renderHttps(s));
    },
    { body: httpsSchema },
  );
}
