/**
 * `/apps/:app/domains`: an app's custom host names (lower-cased, not the base domain or under
 * it, not an address or a loopback name, not another app's). The router and the certificates
 * read them from the state's domains table.
 */
import { checkSchema } from '@slipway/core';
import { onAppList } from '../api/app-list-route.js';
import { sendJson } from '../api/http-util.js';
import type { RouteGroup } from '../api/route-groups.js';
import { runtimeErrors } from '../errors.js';
import type { AppRecord } from '../state/records.js';
import { notACustomDomain } from './custom-domain.js';
import { domainAnswerSchema, domainSchema, renderDomain } from './schemas.js';

/** The custom domains route group. */
export const domainRoutes: RouteGroup = {
  name: 'domains',
  prefix: '/apps/:app/domains',
  routes({ on, ctx }) {
    const { state } = ctx;
    const app = (p: Record<string, string>): AppRecord => state.app(p.app as string);
    onAppList(on, state, '', {
      summary: "An app's custom domains",
      item: domainAnswerSchema,
      rows: (a) => state.domains(a.id),
      render: renderDomain,
    });
    on(
      'POST',
      '',
      async (_q, res, p, _u, b) => {
        const a = app(p);
        const body = b as { hostname: string };
        // Host names are case-insensitive; the router matches the lower-cased Host exactly.
        const hostname = body.hostname.trim().toLowerCase().replace(/\.$/, '');
        const [problem] = checkSchema(domainSchema, { hostname });
        if (problem)
          throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DOMAIN({
            hostname: body.hostname,
            detail: 'is not a host name (letters, digits and hyphens in dot-separated labels)',
          });
        const base = ctx.workflow?.baseDomain?.toLowerCase();
        if (base && (hostname === base || hostname.endsWith(`.${base}`)))
          throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DOMAIN({
            hostname,
            detail: `is the platform's base domain ${base} or under it (apps answer there already)`,
          });
        const notCustom = notACustomDomain(hostname);
        if (notCustom) throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DOMAIN({ hostname, detail: notCustom });
        const owner = state.domains().find((d) => d.hostname === hostname);
        if (owner)
          throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DOMAIN({
            hostname,
            detail:
              owner.appId === a.id ? `is already a domain of ${a.name}` : 'is already taken by another app',
          });
        const d = state.addDomain(a.id, hostname);
        ctx.releases.event(a.name, `Added domain ${hostname}`);
        sendJson(res, 201, renderDomain(a, d));
      },
      {
        summary: 'Route a custom host name to the app',
        body: {
          type: 'object',
          required: ['hostname'],
          properties: { hostname: { type: 'string', maxLength: 254 } },
        },
        response: { 201: domainAnswerSchema },
      },
    );
    on(
      'DELETE',
      '/:host',
      async (_q, res, p) => {
        const a = app(p);
        const host = (p.host as string).toLowerCase();
        const d = state.domains(a.id).find((x) => x.hostname === host || x.id === p.host);
        if (!d || !state.removeDomain(a.id, d.id))
          throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
            what: `domain ${p.host}`,
            hint: `See \`slipway domains -a ${a.name}\`.`,
          });
        ctx.releases.event(a.name, `Removed domain ${d.hostname}`);
        sendJson(res, 200, renderDomain(a, d));
      },
      { summary: 'Stop routing a custom host name', response: { 200: domainAnswerSchema } },
    );
  },
};
