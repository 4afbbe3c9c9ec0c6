/**
 * Provider-declared add-on actions, generically: whatever actions the add-on's provider put in
 * the catalogue (`backups:capture`, `inbox:list`…) are listed and run here, so the platform
 * reaches a provider's features without importing it. `:addon` is the add-on's id or attachment
 * name, or its service name for the app's only (or first) add-on of that service.
 *
 *   GET  /apps/:app/addons/:addon/actions           the actions, with their input schemas
 *   GET  /apps/:app/addons/:addon/actions/:action   run a read-only action (input: the query)
 *   POST /apps/:app/addons/:addon/actions/:action   run any action (input: a JSON body)
 */
import { type AddonActionEntry, type AddonEntry, checkSchema } from '@slipway/core';
import { runtimeErrors } from '../errors.js';
import type { AddonRecord, AppRecord } from '../state/records.js';
import { type RouteRegistrar, readJson, sendJson } from './http-util.js';
import type { ApiContext } from './server.js';

/** Input of an action that declares none: nothing is accepted. */
const NO_INPUT = { type: 'object', additionalProperties: false, properties: {} } as const;

/** The app's add-on named by `ref`: id or attachment name, else the first of that service. */
export function addonByRef(ctx: Pick<ApiContext, 'state'>, app: AppRecord, ref: string): AddonRecord {
  const all = ctx.state.addons(app.id);
  const rec = all.find((a) => a.id === ref || a.name === ref) ?? all.find((a) => a.service === ref);
  if (rec) return rec;
  const service = /^[a-z][a-z0-9-]*$/.test(ref);
  throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
    what: service ? `a ${ref} add-on of ${app.name}` : `add-on ${ref} of ${app.name}`,
    hint: service
      ? `Create one with \`slipway addons:create ${ref} -a ${app.name}\`.`
      : `List the add-ons with \`slipway addons -a ${app.name}\`.`,
  });
}

/** Check a GET's query against the action's input schema, as `readJson` does for a body. */
function checkInput(action: AddonActionEntry, input: Record<string, unknown>): void {
  const [problem] = checkSchema(action.inputSchema ?? NO_INPUT, input);
  if (problem)
    throw runtimeErrors.SLIPWAY_ERR_RUNTIME_INVALID_BODY({
      field: problem.field,
      detail: problem.detail,
      route: `GET /apps/:app/addons/:addon/actions/${action.name}`,
    });
}

/** Register the add-on action routes on the API's router. */
export function registerAddonActionRoutes(on: RouteRegistrar, ctx: ApiContext): void {
  const target = (p: Record<string, string>) => {
    const app = ctx.state.app(p.app as string);
    const addon = addonByRef(ctx, app, p.addon as string);
    const entry: AddonEntry | undefined = ctx.addonCatalog?.get(addon.service);
    return { app, addon, actions: entry?.actions ?? new Map<string, AddonActionEntry>() };
  };
  const actionOf = (p: Record<string, string>) => {
    const t = target(p);
    const action = t.actions.get(p.action as string);
    if (!action)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON_ACTION({
        addon: t.addon.name,
        service: t.addon.service,
        action: p.action as string,
        actions: [...t.actions.keys()].join(', ') || '(none)',
        app: t.app.name,
      });
    return { ...t, action };
  };
  const run = (t: ReturnType<typeof actionOf>, input: Record<string, unknown>) =>
    t.action.run({
      app: t.app.name,
      addon: {
        id: t.addon.id,
        name: t.addon.name,
        service: t.addon.service,
        plan: t.addon.plan,
        resource: t.addon.providerId,
        createdAt: t.addon.createdAt,
      },
      input,
    });
  const label = '/apps/:app/addons/:addon/actions/:action';

  on('GET', '/apps/:app/addons/:addon/actions', async (_q, res, p) => {
    const t = target(p);
    sendJson(
      res,
      200,
      [...t.actions.values()].map((a) => ({
        name: a.name,
        description: a.description,
        read_only: a.readOnly === true,
        input_schema: a.inputSchema ?? NO_INPUT,
      })),
    );
  });
  on('GET', label, async (_q, res, p, url) => {
    const t = actionOf(p);
    if (!t.action.readOnly)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON_ACTION_METHOD({
        action: t.action.name,
        addon: t.addon.name,
        app: t.app.name,
      });
    const input: Record<string, unknown> = Object.fromEntries(url.searchParams);
    checkInput(t.action, input);
    sendJson(res, 200, await run(t, input));
  });
  on('POST', label, async (req, res, p) => {
    const t = actionOf(p);
    const input = await readJson<Record<string, unknown>>(
      req,
      t.action.inputSchema ?? NO_INPUT,
      `POST /apps/:app/addons/:addon/actions/${t.action.name}`,
    );
    sendJson(res, 200, await run(t, input));
  });
}
