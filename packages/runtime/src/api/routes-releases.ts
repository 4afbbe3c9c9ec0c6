/** Releases: the list, one release, the release phase's output, and rollbacks. */
import { runtimeErrors } from '../errors.js';
import type { AppRecord, ReleaseRecord } from '../state/records.js';
import type { RouteRegistrar } from './http-util.js';
import { sendJson } from './http-util.js';
import { renderRelease } from './render.js';
import * as answers from './response-schemas.js';
import { rollbackSchema } from './schemas.js';
import type { ApiContext } from './server.js';

/** Register `/apps/:app/releases`. */
export function registerReleaseRoutes(on: RouteRegistrar, ctx: ApiContext): void {
  const { state, access } = ctx;
  const app = (p: Record<string, string>): AppRecord => state.app(p.app as string);
  const current = (a: AppRecord) => state.currentRelease(a.id);
  // Heroku's release carries the user who made it.
  const release = (a: AppRecord, r: ReleaseRecord, cur: number | undefined): answers.ApiRelease => ({
    ...renderRelease(a, r, cur),
    user: access?.releaseUser(r.id) ?? null,
  });
  on(
    'GET',
    '/apps/:app/releases',
    async (_q, res, p) => {
      const a = app(p);
      const cur = current(a)?.version;
      sendJson(
        res,
        200,
        state.listReleases(a.id).map((r) => release(a, r, cur)),
      );
    },
    { summary: "List an app's releases", response: { 200: answers.listOf(answers.releaseSchema) } },
  );
  /** Release `v5`, `5` or a uuid of the app, or a 404. */
  const releaseOf = (a: AppRecord, spec: string) => {
    const id = spec.replace(/^v/, '');
    const r = /^\d+$/.test(id) ? state.release(a.id, Number(id)) : state.releaseById(id);
    if (!r || r.appId !== a.id)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
        what: `release ${spec}`,
        hint: `See \`slipway releases -a ${a.name}\`.`,
      });
    return r;
  };
  on(
    'GET',
    '/apps/:app/releases/:id',
    async (_q, res, p) => {
      const a = app(p);
      sendJson(res, 200, release(a, releaseOf(a, p.id as string), current(a)?.version));
    },
    { summary: 'Show a release (`v5`, `5` or its id)', response: { 200: answers.releaseSchema } },
  );
  // `releases:output`: what the release phase printed (followed while it runs; empty without one).
  on('GET', '/apps/:app/releases/:id/output', async (req, res, p) => {
    const r = releaseOf(app(p), p.id as string);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
    const followed = await new Promise<boolean>((resolve) => {
      const stop = ctx.releases.followReleasePhase(r.id, (line) => {
        if (line !== null) return void res.write(`${line}\n`);
        res.end();
        resolve(true);
      });
      if (!stop) return resolve(false);
      req.on('close', () => {
        stop();
        resolve(true);
      });
    });
    if (followed) return;
    const text = state.releaseOutputs.get(r.id) ?? '';
    res.end(text ? `${text}\n` : '');
  });
  on(
    'POST',
    '/apps/:app/releases',
    async (_q, res, p, _u, b) => {
      const a = app(p);
      const body = b as { release?: string | number };
      let version: number | undefined;
      if (body.release !== undefined) {
        const s = String(body.release).replace(/^v/, '');
        version = /^\d+$/.test(s) ? Number(s) : state.releaseById(s)?.version;
        if (version === undefined)
          throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
            what: `release ${body.release}`,
            hint: `See \`slipway releases -a ${a.name}\`.`,
          });
      }
      const r = await ctx.releases.rollback(a, version);
      sendJson(res, 201, release(a, r, current(a)?.version));
    },
    {
      summary: 'Roll back to a release (default: the one before the current)',
      body: rollbackSchema,
      response: { 201: answers.releaseSchema },
    },
  );
}
