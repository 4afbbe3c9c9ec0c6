/**
 * Add-on routes beyond list/create/destroy (which live in server.ts): one add-on's info, its
 * plan change (Heroku's `PATCH /apps/:app/addons/:addon` with `{ plan }`), attachments of
 * another app's add-on, Postgres info, reset and backups, and the mail add-on's mailbox.
 */

import { currentPrincipal } from '../accounts/principal.js';
import {
  mailList,
  mailShow,
  pgBackups,
  pgCapture,
  pgInfo,
  pgReset,
  pgRestore,
} from '../addons/addon-tools.js';
import type { AppRecord } from '../state/records.js';
import { type RouteRegistrar, sendJson } from './http-util.js';
import { renderAddon } from './render.js';
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

/** POST /apps/:app/pg/backups/restore */
export const pgRestoreSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { backup: { type: 'string', pattern: '^b\\d{3,}$' } },
} as const;

/** Register the add-on routes on the API's router. */
export function registerAddonRoutes(on: RouteRegistrar, ctx: ApiContext): void {
  const { state } = ctx;
  const app = (p: Record<string, string>) => state.app(p.app as string);
  const tools = { state, dataDir: ctx.dataDir };
  // `?addon=NAME` picks one attachment when an app has several of a service.
  const which = (url: URL) => url.searchParams.get('addon') ?? undefined;

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

  on('GET', '/apps/:app/pg/info', async (_q, res, p, url) =>
    sendJson(res, 200, await pgInfo(tools, app(p), which(url))),
  );
  on('POST', '/apps/:app/pg/reset', async (_q, res, p, url) =>
    sendJson(res, 200, await pgReset(tools, app(p), which(url))),
  );
  on('GET', '/apps/:app/pg/backups', async (_q, res, p, url) =>
    sendJson(res, 200, await pgBackups(tools, app(p), which(url))),
  );
  on('POST', '/apps/:app/pg/backups', async (_q, res, p, url) =>
    sendJson(res, 201, await pgCapture(tools, app(p), which(url))),
  );
  on(
    'POST',
    '/apps/:app/pg/backups/restore',
    async (_req, res, p, url, b) => {
      const body = b as { backup?: string };
      sendJson(res, 200, await pgRestore(tools, app(p), body.backup, which(url)));
    },
    { body: pgRestoreSchema },
  );

  on('GET', '/apps/:app/mail', async (_q, res, p, url) =>
    sendJson(res, 200, await mailList(tools, app(p), which(url))),
  );
  on('GET', '/apps/:app/mail/:message', async (_q, res, p, url) =>
    sendJson(res, 200, await mailShow(tools, app(p), p.message as string, which(url))),
  );
}
