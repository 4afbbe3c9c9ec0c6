/**
 * `POST /app-setups { name, manifest, env }`: create an app from an app.json manifest (Heroku's
 * app-setups without the source blob: the code comes with the first `git push` or deploy).
 * Required env missing, a manifest that fails its schema or a failing add-on refuse the whole
 * setup; the app does not exist afterwards. `GET /apps/:app/app-setup` then tells whether its
 * postdeploy script ran and how it ended.
 */
import { sendJson } from '../api/http-util.js';
import { renderApp } from '../api/render.js';
import type { RouteGroup } from '../api/route-groups.js';
import { runtimeErrors } from '../errors.js';
import { AppSetupService } from './app-setup-service.js';
import { AppSetupTable } from './app-setup-table.js';

const setupSchema = {
  type: 'object',
  required: ['manifest'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    manifest: { type: 'object' },
    env: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/**
 * `/app-setups`, and `GET /apps/:app/app-setup` for how its postdeploy went. The setup service
 * is made with the routes, from what the API drives (add-ons, releases, dynos), once per API.
 */
export const appSetupRoutes: RouteGroup = {
  name: 'app-setups',
  prefix: '',
  routes({ on, ctx, kernel }) {
    if (!kernel) return;
    const setups = new AppSetupTable(ctx.state.db);
    const appSetup = new AppSetupService({
      state: ctx.state,
      setups,
      addons: ctx.addons,
      releases: ctx.releases,
      dynos: ctx.dynos,
      kernel,
      logs: ctx.logs,
      ...(ctx.stacks ? { stacks: ctx.stacks } : {}),
    });
    // Heroku's app-setup resource reports `status` and `postdeploy: { exit_code, output }`;
    // "pending" until the postdeploy script (after the first release) has run.
    on('GET', '/apps/:app/app-setup', async (_q, res, p) => {
      const app = ctx.state.app(p.app as string);
      const setup = setups.get(app.id);
      if (!setup)
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
          what: `an app setup of ${app.name}`,
          hint: 'Only apps created from an app.json with scripts.postdeploy (apps:create --manifest) have one; a push never applies app.json.',
        });
      const pd = setup.postdeploy;
      sendJson(res, 200, {
        app: { id: app.id, name: app.name },
        status: pd.status === 'running' ? 'pending' : pd.status,
        postdeploy: {
          command: pd.command,
          status: pd.status,
          exit_code: pd.exitCode,
          output: pd.output,
        },
        created_at: setup.createdAt,
        updated_at: setup.updatedAt,
      });
    });

    on(
      'POST',
      '/app-setups',
      async (_req, res, _p, _u, b) => {
        const body = b as { name?: string; manifest: object; env?: Record<string, string> };
        const r = await appSetup.create(body.name, body.manifest, body.env ?? {});
        sendJson(res, 201, {
          app: renderApp(r.app, ctx.webUrl(r.app.name)),
          generated: r.generated,
          addons: r.addons,
          warnings: r.warnings,
          postdeploy: r.postdeploy ?? null,
        });
      },
      { summary: 'Create an app from an app.json manifest', body: setupSchema },
    );
  },
};
