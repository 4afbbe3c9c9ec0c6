/**
 * Per-app buildpack lists, shaped after Heroku's buildpack-installations: `GET` lists them in
 * order, `PUT { updates: [{ buildpack }] }` replaces the whole list (empty = detect again).
 * The list is used by the next build; a name may be a catalogue id (`nodejs`), a Heroku-style
 * name (`heroku/nodejs`), the npm package or path a loaded buildpack plugin came from, or what
 * the build fetches: a git URL, an absolute path (a directory or a packed .tgz), an npm package.
 * A relative path is refused here, at once: on a platform it is relative to nothing.
 * A name no loaded buildpack answers to fails that build with the list of known ones.
 */
import { runtimeErrors } from '../errors.js';
import type { AppRecord } from '../state/records.js';
import { type RouteRegistrar, sendJson } from './http-util.js';
import type { ApiContext } from './server.js';

/** Names: no whitespace or control characters, nothing a shell or a URL parser would trip on. */
const NAME = '^[A-Za-z0-9@._~:/+#=-]{1,300}$';

const installationsSchema = {
  type: 'object',
  required: ['updates'],
  additionalProperties: false,
  properties: {
    updates: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        required: ['buildpack'],
        additionalProperties: false,
        properties: { buildpack: { type: 'string', pattern: NAME } },
      },
    },
  },
};

/** Heroku's buildpack-installation shape. */
function render(a: AppRecord) {
  return a.buildpacks.map((name, i) => ({ ordinal: i, buildpack: { url: name, name } }));
}

/** Register `/apps/:app/buildpack-installations`. */
export function registerBuildpackRoutes(on: RouteRegistrar, ctx: ApiContext): void {
  on('GET', '/apps/:app/buildpack-installations', async (_q, res, p) =>
    sendJson(res, 200, render(ctx.state.app(p.app as string))),
  );
  on(
    'PUT',
    '/apps/:app/buildpack-installations',
    async (_req, res, p, _u, b) => {
      const a = ctx.state.app(p.app as string);
      const body = b as { updates: { buildpack: string }[] };
      const list = body.updates.map((u) => u.buildpack);
      // Refused now rather than at the next build: relative to what, on the platform?
      const relative = list.find((b) => b.startsWith('.'));
      if (relative)
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_BUILDPACK_RELATIVE({
          name: relative,
          example: `/srv/buildpacks/${relative.replace(/^(\.\.?\/)+/, '')}`,
        });
      const twice = list.find((b, i) => list.indexOf(b) !== i);
      if (twice)
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_INVALID_BODY({
          field: 'updates',
          detail: `names ${twice} twice`,
          route: 'PUT /apps/:app/buildpack-installations',
        });
      const updated = ctx.state.updateApp(a.name, { buildpacks: list });
      ctx.releases.event(
        a.name,
        list.length ? `Buildpacks set to ${updated.buildpacks.join(', ')}` : 'Buildpacks cleared (detect)',
      );
      sendJson(res, 200, render(updated));
    },
    { body: installationsSchema },
  );
}
