/** `/apps/:app/log-drains`: list, add (URL checked, at most 5 per app) and remove an app's drains. */
import { checkSchema } from '@slipway/core';
import { onAppList } from '../api/app-list-route.js';
import { sendJson } from '../api/http-util.js';
import type { RouteGroup } from '../api/route-groups.js';
import { runtimeErrors } from '../errors.js';
import type { DrainTable } from './drain-table.js';
import { checkDrainUrl } from './drain-url.js';
import { drainErrors } from './errors.js';
import { drainAnswerSchema, drainCreateSchema, drainUrlSchema, renderDrain } from './schemas.js';

const MAX_DRAINS = 5;

/** The drains route group over `table` (the drains plugin's). */
export function drainRoutes(table: () => DrainTable): RouteGroup {
  return {
    name: 'drains',
    prefix: '/apps/:app/log-drains',
    routes({ on, ctx }) {
      const { state } = ctx;
      const app = (p: Record<string, string>) => state.app(p.app as string);
      onAppList(on, state, '', {
        summary: "An app's log drains",
        item: drainAnswerSchema,
        rows: (a) => table().list(a.id),
        render: renderDrain,
      });
      on(
        'POST',
        '',
        async (_q, res, p, _u, b) => {
          const a = app(p);
          const body = b as { url: string };
          const url = checkDrainUrl(body.url, ctx.workflow?.self ?? { ports: [], hosts: [] });
          const [problem] = checkSchema(drainUrlSchema, { url: body.url });
          if (problem)
            throw drainErrors.SLIPWAY_ERR_RUNTIME_DRAIN_URL({ url: body.url, detail: problem.detail });
          const existing = table().list(a.id);
          if (existing.some((d) => d.url === body.url))
            throw drainErrors.SLIPWAY_ERR_RUNTIME_DRAIN_URL({
              url: body.url,
              detail: `is already a drain of ${a.name}`,
            });
          if (existing.length >= MAX_DRAINS)
            throw drainErrors.SLIPWAY_ERR_RUNTIME_DRAIN_LIMIT({ app: a.name, count: existing.length });
          const d = table().add(a.id, body.url);
          ctx.releases.event(a.name, `Added log drain ${url.protocol}//${url.host}`);
          sendJson(res, 201, renderDrain(a, d));
        },
        {
          summary: "Send the app's logs to a drain",
          body: drainCreateSchema,
          response: { 201: drainAnswerSchema },
        },
      );
      on(
        'DELETE',
        '/:id',
        async (_q, res, p) => {
          const a = app(p);
          const id = p.id as string;
          const d = table()
            .list(a.id)
            .find((x) => x.id === id || x.url === id);
          if (!d || !table().remove(a.id, d.id))
            throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
              what: `drain ${id}`,
              hint: `See \`slipway drains -a ${a.name}\`.`,
            });
          sendJson(res, 200, renderDrain(a, d));
        },
        { summary: 'Remove a log drain', response: { 200: drainAnswerSchema } },
      );
    },
  };
}
