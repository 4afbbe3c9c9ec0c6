/**
 * Add-on routes beyond list/create/destroy (which live in server.ts): one add-on's info, its
 * plan change (Heroku's `PATCH /apps/:app/addons/:addon` with `{ plan }`), Postgres backups and
 * the mail add-on's mailbox.
 */
import { mailList, mailShow, pgBackups, pgCapture, pgRestore } from '../addons/addon-tools.js';
import { type RouteRegistrar, readJson, sendJson } from './http-util.js';
import { renderAddon } from './render.js';
import type { ApiContext } from './server.js';

/** PATCH /apps/:app/addons/:id */
export const addonPlanSchema = {
  type: 'object',
  required: ['plan'],
  additionalProperties: false,
  properties: { plan: { type: 'string', pattern: '^[a-z][a-z0-9-]*(:[a-z0-9-]+)?$' } },
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
  on('PATCH', '/apps/:app/addons/:id', async (req, res, p) => {
    const a = app(p);
    const body = await readJson<{ plan: string }>(req, addonPlanSchema, 'PATCH /apps/:app/addons/:id');
    sendJson(res, 200, renderAddon(a, await ctx.addons.upgrade(a, p.id as string, body.plan)));
  });

  on('GET', '/apps/:app/pg/backups', async (_q, res, p, url) =>
    sendJson(res, 200, await pgBackups(tools, app(p), which(url))),
  );
  on('POST', '/apps/:app/pg/backups', async (_q, res, p, url) =>
    sendJson(res, 201, await pgCapture(tools, app(p), which(url))),
  );
  on('POST', '/apps/:app/pg/backups/restore', async (req, res, p, url) => {
    const body = await readJson<{ backup?: string }>(
      req,
      pgRestoreSchema,
      'POST /apps/:app/pg/backups/restore',
    );
    sendJson(res, 200, await pgRestore(tools, app(p), body.backup, which(url)));
  });

  on('GET', '/apps/:app/mail', async (_q, res, p, url) =>
    sendJson(res, 200, await mailList(tools, app(p), which(url))),
  );
  on('GET', '/apps/:app/mail/:message', async (_q, res, p, url) =>
    sendJson(res, 200, await mailShow(tools, app(p), p.message as string, which(url))),
  );
}
