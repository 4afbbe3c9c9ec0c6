/**
 * Routes of the app workflow: custom domains, log drains, maintenance mode and one-off dynos
 * (`run` attached over a WebSocket, `run:detached` to the logs, `ps:stop` of a one-off).
 * The attach protocol is described in `../oneoff/attach-hub.ts`.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { checkSchema, type OneOffSession } from '@slipway/core';
import { checkDrainUrl, type SelfAddress } from '../drains/drain-url.js';
import { drainErrors } from '../drains/errors.js';
import { DYNO_SIZES } from '../dynos/policy.js';
import { runtimeErrors } from '../errors.js';
import { AttachHub } from '../oneoff/attach-hub.js';
import { DEFAULT_SIZE } from '../release-service.js';
import type { AppRecord } from '../state/records.js';
import { assertAppName } from '../state/sqlite-state-store.js';
import { type RouteRegistrar, sendJson } from './http-util.js';
import { renderApp, renderDomain, renderDrain } from './render.js';
import * as answers from './response-schemas.js';
import { domainSchema, drainSchema } from './schemas.js';
import type { ApiContext } from './server.js';

/** What the platform tells these routes about itself. */
export interface WorkflowOptions {
  /** Apps answer at `<app>.<baseDomain>`: it and its subdomains cannot be custom domains. */
  baseDomain?: string;
  /** The platform's own listeners, refused as drain targets; ports are filled in once bound. */
  self?: SelfAddress;
  /** Hang up an attached one-off dyno idle this long; default 1 h (Heroku's). */
  runIdleTimeoutMs?: number;
  /** An attached dyno whose client does not connect within this is hung up; default 60 s. */
  attachTimeoutMs?: number;
}

const MAX_DRAINS = 5;

const dynoCreateSchema = {
  type: 'object',
  required: ['command'],
  additionalProperties: false,
  properties: {
    command: { type: 'string', minLength: 1, maxLength: 16384 },
    attach: { type: 'boolean' },
    size: { type: 'string' },
    type: { type: 'string', pattern: '^run$' },
    node: { type: 'string', minLength: 1, maxLength: 255 },
    env: {
      type: 'object',
      additionalProperties: { type: 'string', maxLength: 32768 },
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    },
    tty: {
      type: 'object',
      required: ['columns', 'rows'],
      additionalProperties: false,
      properties: {
        columns: { type: 'integer', minimum: 1, maximum: 1000 },
        rows: { type: 'integer', minimum: 1, maximum: 1000 },
      },
    },
  },
} as const;

const appPatchSchema = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: { maintenance: { type: 'boolean' }, name: { type: 'string', maxLength: 64 } },
} as const;

/** Register the workflow routes; returns the WebSocket upgrade handler of attached dynos. */
export function registerWorkflowRoutes(
  on: RouteRegistrar,
  ctx: ApiContext,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { state } = ctx;
  const opts = ctx.workflow ?? {};
  const app = (p: Record<string, string>): AppRecord => state.app(p.app as string);
  const hub = new AttachHub(opts.attachTimeoutMs);
  const sessions = new Map<string, OneOffSession>();

  // --- domains --------------------------------------------------------------------------------
  on(
    'GET',
    '/apps/:app/domains',
    async (_q, res, p) => {
      const a = app(p);
      sendJson(
        res,
        200,
        state.domains(a.id).map((d) => renderDomain(a, d)),
      );
    },
    { summary: "An app's custom domains", response: { 200: answers.listOf(answers.domainSchema) } },
  );
  on(
    'POST',
    '/apps/:app/domains',
    async (_q, res, p, _u, b) => {
      const a = app(p);
      const body = b as { hostname: string };
      // Host names are case-insensitive; the router matches the lower-cased Host exactly.
      const hostname = body.hostname.trim().toLowerCase().replace(/\.$/, '');
      const [problem] = checkSchema(domainSchema, { hostname });
      if (problem)
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DOMAIN({
          hostname: body.hostname,
          detail: 'is not a host name (letters, digits and hyphens in dot-separated labels)',
        });
      const base = opts.baseDomain?.toLowerCase();
      if (base && (hostname === base || hostname.endsWith(`.${base}`)))
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DOMAIN({
          hostname,
          detail: `is the platform's base domain ${base} or under it (apps answer there already)`,
        });
      const notCustom = notACustomDomain(hostname);
      if (notCustom) throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DOMAIN({ hostname, detail: notCustom });
      const owner = state.domains().find((d) => d.hostname === hostname);
      if (owner)
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DOMAIN({
          hostname,
          detail:
            owner.appId === a.id ? `is already a domain of ${a.name}` : 'is already taken by another app',
        });
      const d = state.addDomain(a.id, hostname);
      ctx.releases.event(a.name, `Added domain ${hostname}`);
      sendJson(res, 201, renderDomain(a, d));
    },
    {
      summary: 'Route a custom host name to the app',
      body: {
        type: 'object',
        required: ['hostname'],
        properties: { hostname: { type: 'string', maxLength: 254 } },
      },
      response: { 201: answers.domainSchema },
    },
  );
  on(
    'DELETE',
    '/apps/:app/domains/:host',
    async (_q, res, p) => {
      const a = app(p);
      const host = (p.host as string).toLowerCase();
      const d = state.domains(a.id).find((x) => x.hostname === host || x.id === p.host);
      if (!d || !state.removeDomain(a.id, d.id))
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
          what: `domain ${p.host}`,
          hint: `See \`slipway domains -a ${a.name}\`.`,
        });
      ctx.releases.event(a.name, `Removed domain ${d.hostname}`);
      sendJson(res, 200, renderDomain(a, d));
    },
    { summary: 'Stop routing a custom host name', response: { 200: answers.domainSchema } },
  );

  // --- log drains -----------------------------------------------------------------------------
  on(
    'GET',
    '/apps/:app/log-drains',
    async (_q, res, p) => {
      const a = app(p);
      sendJson(
        res,
        200,
        state.drains(a.id).map((d) => renderDrain(a, d)),
      );
    },
    { summary: "An app's log drains", response: { 200: answers.listOf(answers.drainSchema) } },
  );
  on(
    'POST',
    '/apps/:app/log-drains',
    async (_q, res, p, _u, b) => {
      const a = app(p);
      const body = b as { url: string };
      const url = checkDrainUrl(body.url, opts.self ?? { ports: [], hosts: [] });
      const [problem] = checkSchema(drainSchema, { url: body.url });
      if (problem) throw drainErrors.SLIPWAY_ERR_RUNTIME_DRAIN_URL({ url: body.url, detail: problem.detail });
      const existing = state.drains(a.id);
      if (existing.some((d) => d.url === body.url))
        throw drainErrors.SLIPWAY_ERR_RUNTIME_DRAIN_URL({
          url: body.url,
          detail: `is already a drain of ${a.name}`,
        });
      if (existing.length >= MAX_DRAINS)
        throw drainErrors.SLIPWAY_ERR_RUNTIME_DRAIN_LIMIT({ app: a.name, count: existing.length });
      const d = state.addDrain(a.id, body.url);
      ctx.releases.event(a.name, `Added log drain ${url.protocol}//${url.host}`);
      sendJson(res, 201, renderDrain(a, d));
    },
    {
      summary: "Send the app's logs to a drain",
      body: { type: 'object', required: ['url'], properties: { url: { type: 'string', maxLength: 2048 } } },
      response: { 201: answers.drainSchema },
    },
  );
  on(
    'DELETE',
    '/apps/:app/log-drains/:id',
    async (_q, res, p) => {
      const a = app(p);
      const id = p.id as string;
      const d = state.drains(a.id).find((x) => x.id === id || x.url === id);
      if (!d || !state.removeDrain(a.id, d.id))
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
          what: `drain ${id}`,
          hint: `See \`slipway drains -a ${a.name}\`.`,
        });
      sendJson(res, 200, renderDrain(a, d));
    },
    { summary: 'Remove a log drain', response: { 200: answers.drainSchema } },
  );

  // --- maintenance and rename (Heroku: PATCH /apps/:app with `maintenance` and/or `name`) -------
  on(
    'PATCH',
    '/apps/:app',
    async (_req, res, p, _u, b) => {
      let a = app(p);
      const body = b as { maintenance?: boolean; name?: string };
      if (body.name !== undefined && body.name !== a.name) a = await renameApp(ctx, a, body.name);
      if (body.maintenance !== undefined && body.maintenance !== a.maintenance) {
        a = state.updateApp(a.name, { maintenance: body.maintenance });
        ctx.releases.event(a.name, `Maintenance mode ${a.maintenance ? 'enabled' : 'disabled'}`);
      }
      sendJson(res, 200, renderApp(a, ctx.webUrl(a.name), state.currentRelease(a.id)));
    },
    { body: appPatchSchema },
  );

  // --- one-off dynos --------------------------------------------------------------------------
  on(
    'POST',
    '/apps/:app/dynos',
    async (req, res, p, _u, b) => {
      const a = app(p);
      const body = b as {
        command: string;
        attach?: boolean;
        size?: string;
        env?: Record<string, string>;
        tty?: { columns: number; rows: number };
        node?: string;
      };
      const rel = state.currentRelease(a.id);
      const slug = rel?.slug ? state.slug(rel.slug) : undefined;
      if (!rel || !slug)
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NO_RELEASE({ app: a.name, action: 'run a command in' });
      const sizeName = body.size ?? DEFAULT_SIZE;
      const memoryMb = DYNO_SIZES[sizeName];
      if (memoryMb === undefined)
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_INVALID_BODY({
          field: 'size',
          detail: `is not one of ${Object.keys(DYNO_SIZES).join(', ')}`,
          route: 'POST /apps/:app/dynos',
        });
      const attach = body.attach !== false;
      const session = await ctx.dynos.runOnce(a.name, {
        app: a.name,
        release: rel.version,
        type: 'run',
        command: body.command,
        env: {
          ...rel.config,
          ...(body.tty ? { TERM: body.env?.TERM ?? 'xterm-256color' } : {}),
          ...body.env,
        },
        size: { name: sizeName, memoryMb },
        slug: { checksum: slug.checksum, size: slug.size, stack: slug.stack },
        attach,
        ...(attach && body.tty ? { tty: body.tty } : {}),
        ...(attach ? { idleTimeoutMs: opts.runIdleTimeoutMs ?? 3_600_000 } : {}),
        ...(body.node ? { node: body.node } : {}),
      });
      const h = session.handle;
      const name = `${h.type}.${h.index}`;
      const key = `${a.name}/${name}`;
      sessions.set(key, session);
      void session.exited.finally(() => sessions.delete(key)).catch(() => {});
      let attachUrl: string | null = null;
      if (attach) {
        const secret = hub.hold(session, name);
        attachUrl = `ws://${req.headers.host ?? 'localhost'}${AttachHub.path(secret)}`;
      } else {
        session.stdout.resume();
        session.stderr?.resume();
      }
      sendJson(res, 201, {
        id: h.id,
        name,
        type: h.type,
        command: body.command,
        attach_url: attachUrl,
        state: 'up',
        size: sizeName,
        release: { id: rel.id, version: rel.version },
        app: { id: a.id, name: a.name },
        created_at: new Date(h.startedAt).toISOString(),
      });
    },
    { body: dynoCreateSchema },
  );
  // Heroku's ps:stop / ps:kill: a one-off dyno ends; a formation dyno is replaced by the
  // formation (its type keeps its quantity), which is a restart of that one dyno.
  on('POST', '/apps/:app/dynos/:dyno/actions/stop', async (_q, res, p) => {
    const a = app(p);
    const name = p.dyno as string;
    const s = sessions.get(`${a.name}/${name}`);
    if (s) {
      s.kill('SIGTERM');
      return sendJson(res, 202, {});
    }
    // One-offs (run.N, release.N) not held here have already ended; only formation dynos restart.
    const formation = ctx.dynos
      .status(a.name)
      .some((d) => `${d.type}.${d.index}` === name && d.type !== 'run' && d.type !== 'release');
    if (!formation)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
        what: `dyno ${name}`,
        hint: `See the app's dynos with \`slipway ps -a ${a.name}\`.`,
      });
    await ctx.releases.serial(a.name, () => ctx.dynos.restart(a.name, name));
    ctx.releases.event(a.name, `Stopped ${name}; the formation starts it again`);
    sendJson(res, 202, {});
  });

  return (req, socket, head) => {
    if (!hub.upgrade(req, socket, head))
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  };
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

/** Names every machine gives its own loopback address. */
const LOOPBACK_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);

/**
 * Why `hostname` cannot be a custom domain, or undefined. A bare IP (`127.0.0.1`, or `127.1`
 * and `2130706433`, which URL parsers read as one) would capture every request made to the
 * platform by address; a loopback name or a single label is no public name of an app.
 */
export function notACustomDomain(hostname: string): string | undefined {
  let parsed = hostname;
  try {
    parsed = new URL(`http://${hostname}/`).hostname;
  } catch {}
  if (isIP(hostname) || isIP(parsed) || /^\d+$/.test(hostname.split('.').pop() ?? ''))
    return 'is an IP address; a custom domain is a name such as www.example.com (requests by bare address reach no app)';
  if (LOOPBACK_NAMES.has(hostname) || hostname.endsWith('.localhost'))
    return 'is a loopback name; a custom domain is a public name such as www.example.com';
  if (!hostname.includes('.'))
    return 'is a single label; a custom domain is a full name such as www.example.com';
  return undefined;
}
