/**
 * `POST /app-setups { name, manifest, env }`: create an app from an app.json manifest (Heroku's
 * app-setups without the source blob: the code comes with the first `git push` or deploy).
 * Required env missing, a manifest that fails its schema or a failing add-on refuse the whole
 * setup; the app does not exist afterwards.
 */
import { runtimeErrors } from '../errors.js';
import { readJson, sendJson } from './http-util.js';
import { renderApp } from './render.js';
import type { RouteRegistrar } from './routes-git.js';
import type { ApiContext } from './server.js';

const setupSchema = {
  type: 'object',
  required: ['name', 'manifest'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    manifest: { type: 'object' },
    env: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/** Register `/app-setups`. */
export function registerAppSetupRoutes(on: RouteRegistrar, ctx: ApiContext): void {
  on('POST', '/app-setups', async (req, res) => {
    const body = await readJson<{ name: string; manifest: object; env?: Record<string, string> }>(
      req,
      setupSchema,
      'POST /app-setups',
    );
    if (!ctx.appSetup)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ROUTE({ method: 'POST', path: '/app-setups (not configured)' });
    const r = await ctx.appSetup.create(body.name, body.manifest, body.env ?? {});
    sendJson(res, 201, {
      app: renderApp(r.app, ctx.webUrl(r.app.name)),
      generated: r.generated,
      addons: r.addons,
      postdeploy: r.postdeploy ?? null,
    });
  });
}
