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
 * - Basic auth `id:password` on every route (401 otherwise), 422 `{message}` for bad requests,
 *   413 over the body limit, JSON everywhere.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isSlipwayError, type ProvisionRequest } from '@slipway/core';
import { AddonHost } from './addon-host.js';
import { type AddonPlugin, isAddonPlugin } from './define-addon.js';
import type { AddonDefinition } from './definition.js';
import { basicAuth, checkBasicAuth, HttpError, readJsonBody, sendJson, sleep } from './http-util.js';
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

function validateProvisionBody(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b.uuid !== 'string' || !b.uuid) return 'uuid is required (a string)';
  if (b.plan !== undefined && typeof b.plan !== 'string') return 'plan must be a string';
  if (b.region !== undefined && b.region !== null && typeof b.region !== 'string')
    return 'region must be a string';
  if (b.name !== undefined && b.name !== null && typeof b.name !== 'string') return 'name must be a string';
  if (
    b.options !== undefined &&
    (typeof b.options !== 'object' || b.options === null || Array.isArray(b.options))
  )
    return 'options must be an object';
  if (b.callback_url !== undefined && b.callback_url !== null) {
    if (typeof b.callback_url !== 'string') return 'callback_url must be a string';
    try {
      const u = new URL(b.callback_url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'callback_url must be http(s)';
    } catch {
      return 'callback_url must be an absolute URL';
    }
  }
  return undefined;
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

  async function provision(req: IncomingMessage, res: ServerResponse) {
    const body = (await readJsonBody(req, bodyLimit)) as Record<string, any>;
    const bad = validateProvisionBody(body);
    if (bad) return sendJson(res, 422, { message: bad });
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
      return sendJson(res, 202, { id: preq.uuid, message: `${manifest.name} is being provisioned` });
    }
    if ('e' in first) throw first.e;
    return sendJson(res, 200, view(first.r));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== PREFIX && !url.pathname.startsWith(`${PREFIX}/`))
      return sendJson(res, 404, {
        message: `no route ${url.pathname}; the partner API lives under ${PREFIX}`,
      });
    if (!checkBasicAuth(req, manifest.id, password!)) {
      req.resume();
      return sendJson(
        res,
        401,
        { message: 'bad credentials' },
        { 'www-authenticate': `Basic realm="${manifest.id}"` },
      );
    }
    const id = decodeURIComponent(url.pathname.slice(PREFIX.length + 1));
    if (!id) {
      if (req.method === 'POST') return provision(req, res);
      return sendJson(res, 405, { message: `${req.method} is not allowed on ${PREFIX}` }, { allow: 'POST' });
    }
    if (req.method === 'GET') {
      const rec = host.find(id);
      if (rec) return sendJson(res, 200, { uuid: rec.uuid, state: 'provisioned', ...view(rec) });
      if (host.pending(id)) return sendJson(res, 200, { id, uuid: id, state: 'provisioning' });
      const failed = failures.get(id);
      if (failed) return sendJson(res, 200, { id, uuid: id, state: 'failed', message: failed });
      return sendJson(res, 404, { message: `no resource ${id}` });
    }
    if (req.method === 'PUT') {
      const body = (await readJsonBody(req, bodyLimit)) as Record<string, unknown>;
      if (!body || typeof body.plan !== 'string' || !body.plan)
        return sendJson(res, 422, { message: 'plan is required (a string)' });
      const rec = await host.planChange({ id, plan: body.plan });
      return sendJson(res, 200, view(rec));
    }
    if (req.method === 'DELETE') {
      req.resume();
      const gone = !(await host.deprovision({ id }));
      return gone
        ? sendJson(res, 410, { message: `resource ${id} is already deprovisioned` })
        : sendJson(res, 200, { message: `${manifest.name} deprovisioned` });
    }
    return sendJson(
      res,
      405,
      { message: `${req.method} is not allowed here` },
      { allow: 'GET, PUT, DELETE' },
    );
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return res.destroy();
      if (e instanceof HttpError) return sendJson(res, e.status, { message: e.message });
      const message = host.redactor.redact(e instanceof Error ? e.message : String(e));
      if (isSlipwayError(e) && e.status < 500)
        return sendJson(res, e.status === 404 ? 404 : 422, { message, code: e.code });
      host.ctx.log.error(`request ${req.method} ${req.url} failed: ${message}`);
      return sendJson(res, 500, { message, ...(isSlipwayError(e) ? { code: e.code } : {}) });
    });
  });
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = (opts.host ?? '127.0.0.1').includes(':') ? `[${opts.host}]` : (opts.host ?? '127.0.0.1');
  return {
    url: `http://${shownHost}:${port}${PREFIX}`,
    port,
    host,
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
      await host.close();
    },
  };
}
