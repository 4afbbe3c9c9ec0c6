/**
 * `serveAddon`: run a provider as a remote service speaking Heroku's add-on partner API.
 *
 * - `POST /heroku/resources` `{uuid, plan, region, callback_url, options, name}` → 200
 *   `{id, config, message}` (config under the declared names; the platform applies attachment
 *   naming). Idempotent on `uuid`.
 * - When provisioning takes longer than `asyncAfterMs` (3 s), the answer is 202
 *   `{id: <uuid>, message}`; when it finishes the server calls `PATCH <callback_url>` with Basic
 *   auth `id:password` and the JSON body `{id, uuid, state: "provisioned", config, message}` or
 *   `{id: <uuid>, uuid, state: "failed", message}`. The platform must accept that PATCH (any
 *   2xx ends it; other answers are retried 3 times) and may use either id afterwards.
 * - `GET /heroku/resources/:id` (a Slipway extension, for consumers that poll instead of taking
 *   the callback) → `{id, uuid, state, config?, message?}`.
 * - `PUT /heroku/resources/:id` `{plan}` → 200 `{id, config, message}`.
 * - `DELETE /heroku/resources/:id` → 200; an unknown (already deleted) id → 410.
 * - Basic auth `id:password` on every route (401 otherwise), 422 for bad requests, 413 over the
 *   body limit, JSON everywhere; errors in the platform's one shape `{ id, code, message, hint }`.
 * - Served by Fastify (http-server.ts): the bodies are checked against the JSON Schemas below.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProvisionRequest } from '@slipway/core';
import type { FastifyReply } from 'fastify';
import { AddonHost } from './addon-host.js';
import { type AddonPlugin, isAddonPlugin } from './define-addon.js';
import type { AddonDefinition } from './definition.js';
import { addonErrors } from './errors.js';
import { createJsonServer } from './http-server.js';
import { basicAuth, checkBasicAuth, sleep } from './http-util.js';
import type { LogWriter } from './redact.js';
import type { ResourceRecord } from './resource-store.js';

/** Options of `serveAddon`. */
export interface ServeAddonOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Partner API password (default: the manifest's `api.password`). */
  password?: string;
  /** The platform data dir (the provider keeps its data under `addons/<id>`). */
  dataDir?: string;
  /** The provider's options. */
  options?: Record<string, unknown>;
  /** Answer 202 and finish through the callback when provisioning takes longer; default 3000 ms. */
  asyncAfterMs?: number;
  /** Largest accepted request body; default 1 MiB. */
  bodyLimit?: number;
  /** Where redacted log lines go (default stderr). */
  log?: LogWriter;
}

/** A running partner API server. */
export interface AddonServer {
  /** Base URL of the resources: `http://127.0.0.1:PORT/heroku/resources`. */
  readonly url: string;
  readonly port: number;
  /** The provider host behind the server. */
  readonly host: AddonHost<any, any>;
  /** Stop accepting requests and stop the provider's supervised processes. */
  close(): Promise<void>;
}

const PREFIX = '/heroku/resources';

/** `POST /heroku/resources` (Heroku's provision request). */
const provisionSchema = {
  type: 'object',
  required: ['uuid'],
  properties: {
    uuid: { type: 'string', minLength: 1 },
    plan: { type: 'string' },
    region: { type: ['string', 'null'] },
    name: { type: ['string', 'null'] },
    options: { type: 'object' },
    callback_url: { type: ['string', 'null'] },
  },
} as const;

/** `PUT /heroku/resources/:id` (a plan change). */
const planChangeSchema = {
  type: 'object',
  required: ['plan'],
  properties: { plan: { type: 'string', minLength: 1 } },
} as const;

/** The callback URL must be absolute http(s): the provider calls it. */
function checkCallbackUrl(url: unknown): void {
  if (typeof url !== 'string') return;
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    throw addonErrors.SLIPWAY_ERR_ADDON_HTTP_BODY({ detail: 'callback_url must be an absolute URL' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw addonErrors.SLIPWAY_ERR_ADDON_HTTP_BODY({ detail: 'callback_url must be http(s)' });
}

/** Serve a provider over the partner API. Resolves once listening. */
export async function serveAddon(
  target: AddonPlugin<any, any> | AddonDefinition<any, any>,
  opts: ServeAddonOptions = {},
): Promise<AddonServer> {
  const definition = isAddonPlugin(target) ? target.definition : target;
  const host = new AddonHost(definition, {
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    ...(opts.options ? { options: opts.options } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  const manifest = host.manifest;
  const password = opts.password ?? manifest.api.password;
  if (!password)
    throw new TypeError(`serveAddon(${manifest.id}): give a password (or api.password in the manifest)`);
  await host.start();
  const asyncAfter = opts.asyncAfterMs ?? 3000;
  const bodyLimit = opts.bodyLimit ?? 1024 * 1024;
  const failures = new Map<string, string>();
  const callbacks = new Set<string>();

  const view = (r: ResourceRecord) => ({
    id: r.id,
    config: r.config,
    message: r.message ?? `${manifest.name} ready`,
  });

  async function callBack(url: string, body: unknown): Promise<void> {
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', authorization: basicAuth(manifest.id, password!) },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        if (res.ok) return;
        host.ctx.log.warn(`callback ${url} answered ${res.status}`);
      } catch (e) {
        host.ctx.log.warn(`callback ${url} failed: ${(e as Error).message}`);
      }
      if (attempt < 3) await sleep(500 * 2 ** attempt);
    }
  }

  async function provision(body: Record<string, any>, reply: FastifyReply) {
    checkCallbackUrl(body.callback_url);
    const preq: ProvisionRequest = {
      service: manifest.id,
      uuid: body.uuid,
      plan: body.plan ?? '',
      app: typeof body.app === 'string' ? body.app : typeof body.heroku_id === 'string' ? body.heroku_id : '',
      name: body.name ?? '',
      options: body.options ?? {},
      ...(body.region ? { region: body.region } : {}),
    };
    failures.delete(preq.uuid);
    const p = host.provision(preq);
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<'slow'>((r) => {
      timer = setTimeout(() => r('slow'), asyncAfter);
    });
    const first = await Promise.race([
      p.then(
        (r) => ({ r }),
        (e: unknown) => ({ e }),
      ),
      slow,
    ]);
    clearTimeout(timer);
    if (first === 'slow') {
      const cb = body.callback_url as string | undefined;
      if (!callbacks.has(preq.uuid)) {
        callbacks.add(preq.uuid);
        p.then(
          (r) => ({ uuid: r.uuid, state: 'provisioned', ...view(r) }),
          (e: unknown) => {
            const message = host.redactor.redact((e as Error)?.message ?? String(e));
            failures.set(preq.uuid, message);
            host.ctx.log.error(`provision ${preq.uuid} failed: ${message}`);
            return { id: preq.uuid, uuid: preq.uuid, state: 'failed', message };
          },
        ).then(async (payload) => {
          if (cb) await callBack(cb, payload);
          callbacks.delete(preq.uuid);
        });
      }
      return reply.code(202).send({ id: preq.uuid, message: `${manifest.name} is being provisioned` });
    }
    if ('e' in first) throw first.e;
    return reply.code(200).send(view(first.r));
  }

  const app = createJsonServer({
    bodyLimit,
    redact: (t) => host.redactor.redact(t),
    onInternalError: (method, url, message) =>
      host.ctx.log.error(`request ${method} ${url} failed: ${message}`),
  });
  const refuse = () =>
    Object.assign(addonErrors.SLIPWAY_ERR_ADDON_HTTP_AUTH(), {
      headers: { 'www-authenticate': `Basic realm="${manifest.id}"` },
    });
  const authenticate = (req: IncomingMessage) => {
    if (!checkBasicAuth(req, manifest.id, password)) throw refuse();
  };
  app.addHook('onRequest', async (request) => {
    if (!request.is404) authenticate(request.raw);
  });
  // Outside the prefix: 404 before any credentials; inside: 401, then 405 naming what is allowed.
  app.setNotFoundHandler(async (request) => {
    const path = request.url.split('?')[0] ?? '/';
    const method = request.method;
    if (path !== PREFIX && !path.startsWith(`${PREFIX}/`))
      throw addonErrors.SLIPWAY_ERR_ADDON_HTTP_ROUTE({ method, path, prefix: PREFIX });
    authenticate(request.raw);
    const root = path.replace(/\/$/, '') === PREFIX;
    if (!root && path.slice(PREFIX.length + 1).includes('/'))
      throw addonErrors.SLIPWAY_ERR_ADDON_UNKNOWN_RESOURCE({
        addon: manifest.id,
        id: path.slice(PREFIX.length + 1),
      });
    const allow = root ? 'POST' : 'GET, PUT, DELETE';
    throw Object.assign(addonErrors.SLIPWAY_ERR_ADDON_HTTP_METHOD({ method, path, allow }), {
      headers: { allow },
    });
  });
  type WithId = { Params: { id: string } };
  app.post(PREFIX, { schema: { body: provisionSchema } }, (request, reply) =>
    provision(request.body as Record<string, any>, reply),
  );
  app.get<WithId>(`${PREFIX}/:id`, async (request) => {
    const { id } = request.params;
    const rec = host.find(id);
    if (rec) return { uuid: rec.uuid, state: 'provisioned', ...view(rec) };
    if (host.pending(id)) return { id, uuid: id, state: 'provisioning' };
    const failed = failures.get(id);
    if (failed) return { id, uuid: id, state: 'failed', message: failed };
    throw addonErrors.SLIPWAY_ERR_ADDON_UNKNOWN_RESOURCE({ addon: manifest.id, id });
  });
  app.put<WithId>(`${PREFIX}/:id`, { schema: { body: planChangeSchema } }, async (request) => {
    const { plan } = request.body as { plan: string };
    return view(await host.planChange({ id: request.params.id, plan }));
  });
  app.delete<WithId>(`${PREFIX}/:id`, async (request) => {
    const { id } = request.params;
    if (!(await host.deprovision({ id }))) throw addonErrors.SLIPWAY_ERR_ADDON_HTTP_GONE({ id });
    return { message: `${manifest.name} deprovisioned` };
  });
  await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  const server = app.server;
  const port = (server.address() as AddressInfo).port;
  const shownHost = (opts.host ?? '127.0.0.1').includes(':') ? `[${opts.host}]` : (opts.host ?? '127.0.0.1');
  return {
    url: `http://${shownHost}:${port}${PREFIX}`,
    port,
    host,
    async close() {
      await app.close();
      await host.close();
    },
  };
}
