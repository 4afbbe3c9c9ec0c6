/**
 * Add-on routes beyond list/create/destroy (which live in server.ts): one add-on's info, its
 * plan change (Heroku's `PATCH /apps/:app/addons/:addon` with `{ plan }`), attachments of
 * another app's add-on, and the actions providers declare (routes-addon-actions.ts: Postgres
 * info, reset and backups, the mail add-on's inbox…).
 */

import { currentPrincipal } from '../accounts/principal.js';
import type { AppRecord } from '../state/records.js';
import { type RouteRegistrar, sendJson } from './http-util.js';
import { renderAddon } from './render.js';
import { registerAddonActionRoutes } from './routes-addon-actions.js';
import type { ApiContext } from './server.js';

/** PATCH /apps/:app/addons/:id */
export const addonPlanSchema = {
  type: 'object',
  required: ['plan'],
  additionalProperties: false,
  properties: { plan: { type: 'string', pattern: '^[a-z][a-z0-9-]*(:[a-z0-9-]+)?$' } },
} as const;

/** POST /apps/:app/addon-attachments: `addon` is `OWNER_APP::NAME` or an add-on id. */
export const attachmentSchema = {
  type: 'object',
  required: ['addon'],
  additionalProperties: false,
  properties: {
    addon: { type: 'string', minLength: 1, maxLength: 200 },
    name: { type: 'string', pattern: '^[A-Z][A-Z0-9_]{0,63}$' },
  },
} as const;

/** Register the add-on routes on the API's router. */
export function registerAddonRoutes(on: RouteRegistrar, ctx: ApiContext): void {
  const { state } = ctx;
  const app = (p: Record<string, string>) => state.app(p.app as string);

  on('GET', '/apps/:app/addons/:id', async (_q, res, p) => {
    const a = app(p);
    sendJson(res, 200, renderAddon(a, ctx.addons.find(a, p.id as string)));
  });
  on(
    'PATCH',
    '/apps/:app/addons/:id',
    async (_req, res, p, _u, b) => {
      const a = app(p);
      const body = b as { plan: string };
      sendJson(res, 200, renderAddon(a, await ctx.addons.upgrade(a, p.id as string, body.plan)));
    },
    { body: addonPlanSchema },
  );

  on(
    'POST',
    '/apps/:app/addon-attachments',
    async (_req, res, p, _u, b) => {
      const a = app(p);
      const body = b as { addon: string; name?: string };
      // Attaching hands the owner app's credentials to this one: the caller must be allowed there too.
      const mayUse = (owner: AppRecord) => {
        const who = currentPrincipal();
        if (ctx.access && who)
          ctx.access.authorize(who, 'GET', '/apps/:app/config-vars', { app: owner.name });
      };
      sendJson(res, 201, renderAddon(a, await ctx.addons.attach(a, body.addon, body.name, mayUse)));
    },
    { body: attachmentSchema },
  );
  on('DELETE', '/apps/:app/addon-attachments/:id', async (_q, res, p) => {
    const a = app(p);
    sendJson(res, 200, renderAddon(a, await ctx.addons.detach(a, p.id as string)));
  });

  registerAddonActionRoutes(on, ctx);
}
