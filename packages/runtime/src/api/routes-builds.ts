/** Builds: an archive or a source blob in, a build record out, and its output streamed. */
import { rm } from 'node:fs/promises';
import { receiveUpload } from '../deploy-service.js';
import { runtimeErrors } from '../errors.js';
import type { AppRecord } from '../state/records.js';
import { onAppList } from './app-list-route.js';
import {
  boundedLineWriter,
  DEFAULT_MAX_UPLOAD_BYTES,
  type RouteRegistrar,
  readJson,
  sendJson,
} from './http-util.js';
import { renderBuild } from './render.js';
import * as answers from './response-schemas.js';
import { type SourceStore, sourceBuildSchema } from './routes-sources.js';
import type { ApiContext } from './server.js';

/** Register `/apps/:app/builds` and its output stream. */
export function registerBuildRoutes(on: RouteRegistrar, ctx: ApiContext, sources: SourceStore): void {
  const { state } = ctx;
  const app = (p: Record<string, string>): AppRecord => state.app(p.app as string);
  on(
    'POST',
    '/apps/:app/builds',
    async (req, res, p) => {
      const a = app(p);
      // Heroku's shape: `{ source_blob: { url } }` naming a source this platform issued.
      if (/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
        const body = await readJson<{ source_blob: { url: string; version?: string } }>(
          req,
          sourceBuildSchema,
          'POST /apps/:app/builds',
        );
        const { url, version } = body.source_blob;
        const b = await ctx.deploys.start(
          a,
          await sources.blobFor(url),
          version ? { sourceVersion: version } : {},
        );
        return sendJson(res, 201, renderBuild(a, b));
      }
      const file = await receiveUpload(req, ctx.dataDir, ctx.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES);
      try {
        const b = await ctx.deploys.start(a, file);
        sendJson(res, 201, renderBuild(a, b));
      } finally {
        await rm(file, { force: true });
      }
    },
    {
      summary: 'Build a source archive (the body, tar.gz) or `{ source_blob: { url } }` (JSON)',
      response: { 201: answers.buildSchema },
    },
  );
  onAppList(on, state, '/apps/:app/builds', {
    summary: "List an app's builds",
    item: answers.buildSchema,
    rows: (a) => state.listBuilds(a.id),
    render: renderBuild,
  });
  const build = (a: AppRecord, id: string) => {
    const b = state.build(id);
    if (!b || b.appId !== a.id)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
        what: `build ${id}`,
        hint: `See \`GET /apps/${a.name}/builds\`.`,
      });
    return b;
  };
  on(
    'GET',
    '/apps/:app/builds/:id',
    async (_q, res, p) => {
      const a = app(p);
      sendJson(res, 200, renderBuild(a, build(a, p.id as string)));
    },
    { summary: 'Show a build', response: { 200: answers.buildSchema } },
  );
  on('GET', '/apps/:app/builds/:id/output', async (req, res, p) => {
    const a = app(p);
    const b = build(a, p.id as string);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
    const write = boundedLineWriter(res);
    await new Promise<void>((resolve) => {
      const stop = ctx.deploys.follow(b.id, (line) => {
        if (line === null) {
          res.end();
          resolve();
        } else write(line);
      });
      req.on('close', () => {
        stop();
        resolve();
      });
    });
  });
}
