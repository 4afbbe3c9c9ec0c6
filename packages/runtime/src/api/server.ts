/**
 * The platform's REST/JSON API, shaped after Heroku's Platform API. Every route needs
 * `Authorization: Bearer <token>` (or a dashboard session with its CSRF token), except sign-in,
 * the dashboard's files, /openapi.json and the git hook callbacks, which need a push's secret;
 * with accounts, the gate (accounts/access-gate.ts, through api-gate.ts) decides per route
 * template who may call it. The routes are Fastify's (http-app.ts): bodies are validated with ajv
 * against their schemas before anything changes, answers go through their response schemas, and
 * errors are `{ id, message }` (plus `code` and `hint`) with the catalogue's status.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import {
  type AddonEntry,
  type ApiRouteGroupEntry,
  type DynoStatus,
  type Kernel,
  validateConfigVars,
} from '@slipway/core';
import type { AccessGate } from '../accounts/access-gate.js';
import { registerDashboardRoutes } from '../accounts/dashboard-static.js';
import { registerAccountRoutes } from '../accounts/routes-accounts.js';
import type { AddonService } from '../addon-service.js';
import type { ProviderRegistry } from '../addons/provider-registry.js';
import type { DeployService } from '../deploy-service.js';
import { formatLogLine, type LogHub } from '../logs/log-hub.js';
import type { DynoManagerPort, FormationUpdate, ReleaseService } from '../release-service.js';
import { type AppStacks, requireStack } from '../stack/app-stacks.js';
import { registerStackRoutes } from '../stack/routes-stacks.js';
import type { AppRecord } from '../state/records.js';
import type { SlugCollector } from '../state/slug-collector.js';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';
import { apiGate } from './api-gate.js';
import { onAppList } from './app-list-route.js';
import { createHttpApp, type RouteEntry } from './http-app.js';
import { boundedLineWriter, type RouteRegistrar, sendJson } from './http-util.js';
import { renderAddon, renderApp, renderDyno, renderFormation } from './render.js';
import * as answers from './response-schemas.js';
import { mountRouteGroups, type WorkflowOptions } from './route-groups.js';
import { registerAddonProviderRoutes } from './routes-addon-providers.js';
import { registerAddonRoutes } from './routes-addons.js';
import { registerAppSettingsRoutes } from './routes-app-settings.js';
import { registerBuildpackRoutes } from './routes-buildpacks.js';
import { registerBuildRoutes } from './routes-builds.js';
import { type CertRoutesOptions, registerCertRoutes } from './routes-certs.js';
import { registerReleaseRoutes } from './routes-releases.js';
import { registerSourceRoutes, SourceStore } from './routes-sources.js';
import {
  addonSchema,
  configVarsSchema,
  createAppSchema,
  formationBatchSchema,
  formationOneSchema,
  logSessionSchema,
} from './schemas.js';

/** What the API drives. */
export interface ApiContext {
  state: SqliteStateStore;
  logs: LogHub;
  dynos: DynoManagerPort & { status(app: string): DynoStatus[] };
  releases: ReleaseService;
  deploys: DeployService;
  addons: AddonService;
  dataDir: string;
  /** Public URL of an app through the router. */
  webUrl(app: string): string;
  /** Called after every successful change (apps, domains): the router refreshes its view. */
  onChange?: () => void;
  /** Largest accepted source upload, bytes (default `DEFAULT_MAX_UPLOAD_BYTES`). */
  maxUploadBytes?: number;
  /** Removes a destroyed app's slugs that no other app uses; absent = they stay. */
  slugs?: SlugCollector;
  /** Base domain, own listeners and one-off timeouts (domains, drains, run). */
  workflow?: WorkflowOptions;
  /** The add-on services the kernel offers (`GET /addon-services`). */
  addonCatalog?: Map<string, AddonEntry>;
  /** Remote providers registered at run time; absent = `/addon-providers` answers 404. */
  providers?: ProviderRegistry;
  /** Certificates, ACM and HTTPS policies; absent = those routes answer 404. */
  certs?: CertRoutesOptions;
  /** Users, per-app access, sessions and the audit log; absent = one platform token, no dashboard. */
  access?: AccessGate;
  /** The route groups plugins declared (`kernel.catalog.apiRoutes`), mounted under their prefixes. */
  routeGroups?: Iterable<ApiRouteGroupEntry>;
  /** The platform's kernel, handed to the route groups. */
  kernel?: Kernel;
  /** Each app's stack; absent = `/stacks` answers 404 and apps are created on the default. */
  stacks?: AppStacks;
}

type Params = Record<string, string>;

/** The API's version in the OpenAPI document. */
const API_VERSION = '1';

const routeLists = new WeakMap<Server, { method: string; path: string }[]>();

/** The routes of an API server, as registered (`/apps/:app/...` templates): tests enumerate them. */
export function apiRoutes(server: Server): { method: string; path: string }[] {
  return [...(routeLists.get(server) ?? [])];
}

/** Create the API server (not listening yet). */
export function createApiServer(ctx: ApiContext): Server {
  const { state } = ctx;
  const routes: RouteEntry[] = [];
  let group = 'apps';
  const on: RouteRegistrar = (method, path, h, spec) =>
    routes.push({ method, path, h, group, ...(spec ? { spec } : {}) });
  /** Register a route module as its own group (an encapsulated Fastify plugin, an OpenAPI tag). */
  const module = <T>(name: string, register: () => T): T => {
    const before = group;
    group = name;
    try {
      return register();
    } finally {
      group = before;
    }
  };
  const access = ctx.access;
  const app = (p: Params): AppRecord => state.app(p.app as string);
  const current = (a: AppRecord) => state.currentRelease(a.id);

  const apps = { 200: answers.listOf(answers.appSchema) };
  const oneApp = { 200: answers.appSchema };
  on(
    'GET',
    '/apps',
    async (_q, res) =>
      sendJson(
        res,
        200,
        (access ? access.visibleApps(state.listApps()) : state.listApps()).map((a) =>
          renderApp(a, ctx.webUrl(a.name), current(a)),
        ),
      ),
    { summary: 'List the apps (the ones the caller may see)', response: apps },
  );
  on(
    'POST',
    '/apps',
    async (_q, res, _p, _u, b) => {
      const body = b as { name?: string; stack?: string };
      // Checked first: an unknown or unbuilt stack creates no app.
      if (body.stack) await requireStack(body.stack);
      const a = state.createApp(body.name);
      if (body.stack) await ctx.stacks?.set(a.id, body.stack);
      ctx.releases.event(a.name, 'App created');
      sendJson(res, 201, renderApp(a, ctx.webUrl(a.name), undefined, undefined, ctx.stacks?.of(a.id)));
    },
    { summary: 'Create an app', body: createAppSchema, response: { 201: answers.appSchema } },
  );
  on(
    'GET',
    '/apps/:app',
    async (_q, res, p) => {
      const a = app(p);
      const live = current(a);
      const stack = live?.slug ? state.slug(live.slug)?.stack : undefined;
      sendJson(res, 200, renderApp(a, ctx.webUrl(a.name), live, stack, ctx.stacks?.of(a.id)));
    },
    { summary: 'Show an app', response: oneApp },
  );
  on(
    'DELETE',
    '/apps/:app',
    async (_q, res, p) => {
      const a = app(p);
      await ctx.releases.serial(a.name, async () => {
        await ctx.dynos.stopApp(a.name);
        const failed = await ctx.addons.deprovisionAll(a);
        if (failed.length) ctx.releases.event(a.name, `Add-ons not deprovisioned: ${failed.join('; ')}`);
        const slugs = ctx.slugs?.slugsOf(a.id) ?? [];
        state.deleteApp(a.name);
        // The build cache and the app's uid go with the app; so do its slugs, unless another
        // app's release uses one.
        await ctx.deploys.forgetApp(a.name);
        await ctx.slugs?.collect(slugs);
        for (const fn of groups.destroyed) await fn(a);
        ctx.logs.forget(a.name);
      });
      sendJson(res, 200, renderApp(a, ctx.webUrl(a.name)));
    },
    { summary: 'Destroy an app, its dynos, add-ons, slugs and repository', response: oneApp },
  );

  registerAppSettingsRoutes(on, ctx);

  // --- builds and releases (routes-builds.ts, routes-releases.ts) ------------------------------
  const sources = new SourceStore(join(ctx.dataDir, 'tmp', 'sources'));
  module('sources', () => registerSourceRoutes(on, ctx, sources));
  module('builds', () => registerBuildRoutes(on, ctx, sources));
  module('releases', () => registerReleaseRoutes(on, ctx));
  if (ctx.stacks) {
    const stacks = ctx.stacks;
    module('stacks', () => registerStackRoutes(on, state, stacks));
  }

  // --- config vars ----------------------------------------------------------------------------
  const configAnswer = { 200: answers.configVarsAnswerSchema };
  on('GET', '/apps/:app/config-vars', async (_q, res, p) => sendJson(res, 200, state.config(app(p).id)), {
    summary: "An app's config vars",
    response: configAnswer,
  });
  on(
    'PATCH',
    '/apps/:app/config-vars',
    async (_q, res, p, _u, b) => {
      const a = app(p);
      const body = b as Record<string, string | null>;
      const after = { ...state.config(a.id) };
      for (const [k, v] of Object.entries(body)) {
        if (v === null) delete after[k];
        else after[k] = v;
      }
      // Names of the vars being unset are checked too: nothing odd reaches the store.
      validateConfigVars({ ...after, ...Object.fromEntries(Object.keys(body).map((k) => [k, ''])) });
      validateConfigVars(after);
      await ctx.releases.setConfig(a, body);
      sendJson(res, 200, state.config(a.id));
    },
    {
      summary: 'Set (string) or unset (null) config vars: a new release',
      body: configVarsSchema,
      response: configAnswer,
    },
  );

  // --- formation and dynos --------------------------------------------------------------------
  const formation = (a: AppRecord) => {
    const cur = current(a);
    const types = (cur?.slug && state.slug(cur.slug)?.processTypes) || {};
    return state.formation(a.id).map((f) => renderFormation(a, f, types[f.type]));
  };
  const formations = { 200: answers.listOf(answers.formationSchema) };
  on('GET', '/apps/:app/formation', async (_q, res, p) => sendJson(res, 200, formation(app(p))), {
    summary: "An app's formation",
    response: formations,
  });
  on(
    'PATCH',
    '/apps/:app/formation',
    async (_q, res, p, _u, b) => {
      const a = app(p);
      const body = b as { updates: FormationUpdate[] };
      await ctx.releases.scale(a, body.updates);
      sendJson(res, 200, formation(a));
    },
    { summary: 'Scale or resize several process types', body: formationBatchSchema, response: formations },
  );
  on(
    'PATCH',
    '/apps/:app/formation/:type',
    async (_q, res, p, _u, b) => {
      const a = app(p);
      await ctx.releases.scale(a, [{ ...(b as Omit<FormationUpdate, 'type'>), type: p.type as string }]);
      sendJson(
        res,
        200,
        formation(a).find((f) => f.type === p.type),
      );
    },
    {
      summary: 'Scale or resize one process type',
      body: formationOneSchema,
      response: { 200: answers.formationSchema },
    },
  );
  onAppList(on, state, '/apps/:app/dynos', {
    summary: "An app's dynos",
    item: answers.dynoSchema,
    rows: (a) => ctx.dynos.status(a.name),
    render: renderDyno,
  });
  on('DELETE', '/apps/:app/dynos', async (_q, res, p) => {
    const a = app(p);
    await ctx.releases.serial(a.name, () => ctx.dynos.restart(a.name));
    ctx.releases.event(a.name, 'Restarted all dynos');
    sendJson(res, 202, {});
  });
  on('DELETE', '/apps/:app/dynos/:type', async (_q, res, p) => {
    const a = app(p);
    await ctx.releases.serial(a.name, () => ctx.dynos.restart(a.name, p.type));
    ctx.releases.event(a.name, `Restarted ${p.type} dynos`);
    sendJson(res, 202, {});
  });

  // --- add-ons (domains, drains, one-offs: plugins, see features.ts) -----------------------------------------
  onAppList(on, state, '/apps/:app/addons', {
    summary: "An app's add-ons and attachments",
    item: answers.addonSchema,
    rows: (a) => state.addons(a.id),
    render: renderAddon,
  });
  on(
    'POST',
    '/apps/:app/addons',
    async (_q, res, p, _u, b) => {
      const a = app(p);
      const body = b as { plan: string; name?: string; options?: Record<string, unknown> };
      sendJson(res, 201, renderAddon(a, await ctx.addons.create(a, body.plan, body.name, body.options)));
    },
    { summary: 'Provision an add-on', body: addonSchema, response: { 201: answers.addonSchema } },
  );
  on(
    'DELETE',
    '/apps/:app/addons/:id',
    async (_q, res, p) => {
      const a = app(p);
      sendJson(res, 200, renderAddon(a, await ctx.addons.destroy(a, p.id as string)));
    },
    { summary: 'Deprovision an add-on', response: { 200: answers.addonSchema } },
  );

  // --- logs -----------------------------------------------------------------------------------
  on(
    'POST',
    '/apps/:app/log-sessions',
    async (_q, res, p, _u, body) => {
      const a = app(p);
      const b = body as { lines?: number; tail?: boolean; source?: string; dyno?: string };
      const q = new URLSearchParams();
      if (b.lines) q.set('n', String(b.lines));
      if (b.tail) q.set('tail', '1');
      if (b.source) q.set('source', b.source);
      if (b.dyno) q.set('dyno', b.dyno);
      sendJson(res, 201, { logplex_url: `/apps/${a.name}/logs?${q}` });
    },
    {
      summary: 'Where to read the logs (`GET` the `logplex_url`)',
      body: logSessionSchema,
      response: { 201: answers.logSessionAnswerSchema },
    },
  );
  on('GET', '/apps/:app/logs', async (req, res, p, url) => {
    const a = app(p);
    const n = Math.min(Math.max(Number(url.searchParams.get('n') ?? 100) || 100, 1), 1500);
    const filter = {
      ...(url.searchParams.get('source') ? { source: url.searchParams.get('source') as string } : {}),
      ...(url.searchParams.get('dyno') ? { dyno: url.searchParams.get('dyno') as string } : {}),
    };
    const tail = ['1', 'true'].includes(url.searchParams.get('tail') ?? '');
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
    for (const l of ctx.logs.recent(a.name, { ...filter, n })) res.write(`${formatLogLine(l)}\n`);
    if (!tail) {
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const write = boundedLineWriter(res);
      const stop = ctx.logs.subscribe(a.name, (l) => write(formatLogLine(l)), filter);
      req.on('close', () => {
        stop();
        resolve();
      });
    });
  });

  module('buildpacks', () => registerBuildpackRoutes(on, ctx));
  module('addon-actions', () => registerAddonRoutes(on, ctx));
  module('addon-providers', () => registerAddonProviderRoutes(on, ctx));
  const { certs } = ctx;
  if (certs) module('certs', () => registerCertRoutes(on, ctx, certs));
  if (access) {
    module('accounts', () => registerAccountRoutes(on, access));
    module('dashboard', () => registerDashboardRoutes(on, access.dashboardDir));
  }
  // The plugins' groups (drains, domains, one-offs…: see features.ts), each under its prefix.
  const groups = mountRouteGroups(ctx.routeGroups ?? [], routes, ctx, ctx.kernel);
  const { server } = createHttpApp(routes, apiGate(ctx), {
    title: 'Slipway platform API',
    version: API_VERSION,
  });
  routeLists.set(
    server,
    routes.map(({ method, path }) => ({ method, path })),
  );
  server.on('upgrade', (req, socket, head) => {
    for (const take of groups.upgrades) if (take(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  return server;
}
