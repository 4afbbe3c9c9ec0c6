/**
 * `PATCH /apps/:app` (Heroku's app update): `name` renames the app, `maintenance` turns
 * maintenance mode on or off (the maintenance plugin answers the app's requests with H80 while
 * it is on; without that plugin the flag is refused).
 */

import { runtimeErrors } from '../errors.js';
import { maintenanceErrors } from '../maintenance/errors.js';
import { maintenanceStateRef } from '../maintenance/plugin.js';
import type { AppRecord } from '../state/records.js';
import { assertAppName } from '../state/sqlite-state-store.js';
import { type RouteRegistrar, sendJson } from './http-util.js';
import { renderApp } from './render.js';
import type { ApiContext } from './server.js';

const appPatchSchema = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: { maintenance: { type: 'boolean' }, name: { type: 'string', maxLength: 64 } },
} as const;

/** Register `PATCH /apps/:app`. */
export function registerAppSettingsRoutes(on: RouteRegistrar, ctx: ApiContext): void {
  const { state } = ctx;
  const app = (p: Record<string, string>): AppRecord => state.app(p.app as string);
  on(
    'PATCH',
    '/apps/:app',
    async (_req, res, p, _u, b) => {
      let a = app(p);
      const body = b as { maintenance?: boolean; name?: string };
      // Checked before anything changes: a rename must not happen when the request is refused.
      if (body.maintenance !== undefined && ctx.kernel && !ctx.kernel.has(maintenanceStateRef))
        throw maintenanceErrors.SLIPWAY_ERR_MAINTENANCE_DISABLED({ app: a.name });
      if (body.name !== undefined && body.name !== a.name) a = await renameApp(ctx, a, body.name);
      if (body.maintenance !== undefined && body.maintenance !== a.maintenance) {
        a = state.updateApp(a.name, { maintenance: body.maintenance });
        ctx.releases.event(a.name, `Maintenance mode ${a.maintenance ? 'enabled' : 'disabled'}`);
      }
      sendJson(res, 200, renderApp(a, ctx.webUrl(a.name), state.currentRelease(a.id)));
    },
    { summary: 'Rename an app or turn its maintenance mode on or off', body: appPatchSchema },
  );
}

/**
 * Rename an app. Dynos, logs and the router know apps by name, so the dynos stop under the old
 * name and the live release starts again under the new one; the id (repository, build cache,
 * add-ons, domains, drains) stays.
 */
async function renameApp(ctx: ApiContext, a: AppRecord, name: string): Promise<AppRecord> {
  assertAppName(name);
  const renamed = await ctx.releases.serial(a.name, async () => {
    if (ctx.state.findApp(name)) throw runtimeErrors.SLIPWAY_ERR_RUNTIME_APP_EXISTS({ name });
    await ctx.dynos.stopApp(a.name);
    const after = ctx.state.renameApp(a.name, name);
    ctx.logs.forget(a.name);
    return after;
  });
  ctx.releases.event(renamed.name, `Renamed from ${a.name} to ${renamed.name}`);
  await ctx.releases.restore(renamed);
  return renamed;
}
