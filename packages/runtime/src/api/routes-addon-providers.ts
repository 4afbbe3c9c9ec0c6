/**
 * What add-ons a platform offers, and who provides them:
 * - `GET /addon-services`, `GET /addon-services/:service/plans` (Heroku's shapes: plans are
 *   named `service:plan`);
 * - `GET /addon-providers`, `POST /addon-providers` (a partner-API manifest with its URL and
 *   password, or an Open Service Broker), `DELETE /addon-providers/:name`: providers registered
 *   at run time, kept in the state (see addons/provider-registry.ts).
 */
import type { AddonEntry } from '@slipway/core';
import type { ProviderInput } from '../addons/provider-registry.js';
import { runtimeErrors } from '../errors.js';
import { type RouteRegistrar, sendJson } from './http-util.js';
import type { ApiContext } from './server.js';

const URL_PATTERN = '^https?://[^\\s]+$';

/** POST /addon-providers */
export const providerSchema = {
  oneOf: [
    {
      type: 'object',
      required: ['kind', 'manifest'],
      additionalProperties: false,
      properties: {
        kind: { const: 'partner' },
        manifest: { type: 'object' },
        url: { type: 'string', pattern: URL_PATTERN },
        password: { type: 'string', minLength: 1, maxLength: 500 },
      },
    },
    {
      type: 'object',
      required: ['kind', 'url', 'username', 'password'],
      additionalProperties: false,
      properties: {
        kind: { const: 'osb' },
        url: { type: 'string', pattern: URL_PATTERN },
        username: { type: 'string', minLength: 1, maxLength: 200 },
        password: { type: 'string', minLength: 1, maxLength: 500 },
        name: { type: 'string', pattern: '^[a-z0-9][a-z0-9.:-]{0,62}$' },
        services: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1 } },
      },
    },
  ],
} as const;

/** Register the add-on service and provider routes. */
export function registerAddonProviderRoutes(on: RouteRegistrar, ctx: ApiContext): void {
  const catalog = (): Map<string, AddonEntry> => ctx.addonCatalog ?? new Map();
  const service = (name: string) => {
    const entry = catalog().get(name);
    if (!entry)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
        what: `add-on service ${name}`,
        hint: 'List the services with `slipway addons:services`.',
      });
    return entry;
  };
  on('GET', '/addon-services', async (_q, res) =>
    sendJson(
      res,
      200,
      [...catalog().values()].map((e) => ({
        id: e.service,
        name: e.service,
        human_name: e.name,
        provider: e.plugin,
        state: 'ga',
      })),
    ),
  );
  on('GET', '/addon-services/:service/plans', async (_q, res, p) => {
    const e = service(p.service as string);
    sendJson(
      res,
      200,
      e.plans.map((plan) => ({
        id: `${e.service}:${plan.name}`,
        name: `${e.service}:${plan.name}`,
        human_name: plan.name,
        description: plan.description ?? '',
        default: plan.default === true,
        addon_service: { name: e.service },
      })),
    );
  });
  const registry = () => {
    if (!ctx.providers)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
        what: 'add-on provider registration',
        hint: 'This platform registers no providers at run time.',
      });
    return ctx.providers;
  };
  on('GET', '/addon-providers', async (_q, res) => sendJson(res, 200, registry().list()));
  on(
    'POST',
    '/addon-providers',
    async (_req, res, _p, _u, b) => {
      const body = b as ProviderInput;
      sendJson(res, 201, await registry().add(body));
    },
    { body: providerSchema },
  );
  on('DELETE', '/addon-providers/:name', async (_q, res, p) =>
    sendJson(res, 200, await registry().remove(p.name as string)),
  );
}
