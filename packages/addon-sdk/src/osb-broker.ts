/**
 * `osbBroker`: a kernel plugin that offers every service of an Open Service Broker (API 2.17)
 * as a Slipway add-on. `apply` reads `GET /v2/catalog` once (cached on the plugin) and
 * registers each service and its plans. Provision = create the instance (async allowed: 202 →
 * poll `last_operation` with back-off) and then bind it, so the app gets credentials:
 *
 *   credentials.uri (or, failing that, .url)  → `<NAME>_URL`
 *   every other scalar key `k`                → `<NAME>_<K>` (upper-cased, non-alphanumerics → `_`)
 *   nested objects and arrays                 → not mapped
 *
 * where NAME is the attachment name (`--as`), else the service name upper-cased. Deprovision
 * unbinds then deletes the instance; 410 Gone counts as done. Instance and binding ids are the
 * platform's `uuid`, so a retried provision hits the same instance.
 */
import type { Kernel, Plugin, ProvisionRequest, ProvisionResult } from '@slipway/core';
import { addonErrors } from './errors.js';
import { basicAuth, fetchWithTimeout, sleep, tryJson } from './http-util.js';

/** Options of `osbBroker`. */
export interface OsbBrokerOptions {
  /** Broker base URL (the one that serves /v2/catalog). */
  url: string;
  username: string;
  password: string;
  /** Only offer these services (by catalog name); default all. */
  services?: string[];
  /** Name used in errors and as the plugin name suffix; default the URL's host. */
  name?: string;
  /** Hard timeout of one HTTP call; default 25 s. */
  timeoutMs?: number;
  /** How long an asynchronous operation may take; default 10 min. */
  operationTimeoutMs?: number;
  /** First `last_operation` poll delay (×1.5 per poll, up to 5 s); default 250 ms. */
  pollIntervalMs?: number;
}

/** A plan in the broker's catalog. */
export interface OsbPlan {
  id: string;
  name: string;
  description?: string;
}

/** A service in the broker's catalog. */
export interface OsbService {
  id: string;
  name: string;
  description?: string;
  bindable?: boolean;
  plans: OsbPlan[];
}

/** The plugin `osbBroker` returns. */
export interface OsbBrokerPlugin extends Plugin<Record<string, unknown>> {
  /** The catalog, once `apply` has read it. */
  readonly catalog: OsbService[] | undefined;
}

interface Instance {
  service: OsbService;
  planId: string;
  name: string;
  config: Record<string, string>;
}

const API_VERSION = '2.17';

/** Map OSB binding credentials to config vars (see the module comment for the rule). */
export function credentialsToConfig(
  prefix: string,
  credentials: Record<string, unknown>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const keys = Object.keys(credentials);
  const urlKey = keys.find((k) => k.toLowerCase() === 'uri') ?? keys.find((k) => k.toLowerCase() === 'url');
  // The URL key goes first so that a plain `url` beside `uri` cannot take `<NAME>_URL`.
  const ordered = urlKey ? [urlKey, ...keys.filter((k) => k !== urlKey)] : keys;
  for (const k of ordered) {
    const v = credentials[k];
    if (v === null || (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')) continue;
    const name = k === urlKey ? `${prefix}_URL` : `${prefix}_${k.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
    if (!/^[A-Z][0-9A-Z_]+$/.test(name) || name in out) continue;
    out[name] = String(v);
  }
  return out;
}

function catalogProblem(x: unknown): string | undefined {
  const services = (x as { services?: unknown })?.services;
  if (!Array.isArray(services)) return 'catalog has no "services" array';
  for (const [i, s] of services.entries()) {
    if (!s || typeof s.id !== 'string' || typeof s.name !== 'string')
      return `catalog services[${i}] lacks id or name`;
    if (!Array.isArray(s.plans) || !s.plans.length) return `catalog service ${s.name} has no plans`;
    for (const p of s.plans)
      if (!p || typeof p.id !== 'string' || typeof p.name !== 'string')
        return `catalog service ${s.name} has a plan without id or name`;
  }
  return undefined;
}

/** Offer an Open Service Broker's services as add-ons. */
export function osbBroker(opts: OsbBrokerOptions): OsbBrokerPlugin {
  const base = opts.url.replace(/\/$/, '');
  const broker = opts.name ?? new URL(base).host;
  const pluginName = `osb-broker-${broker}`;
  const hard = opts.timeoutMs ?? 25_000;
  const headers = {
    authorization: basicAuth(opts.username, opts.password),
    'x-broker-api-version': API_VERSION,
    accept: 'application/json',
    'content-type': 'application/json',
  };
  const instances = new Map<string, Instance>();
  let catalog: OsbService[] | undefined;
  const fail = (detail: string) => addonErrors.SLIPWAY_ERR_OSB_BROKER({ broker, detail });

  async function call(method: string, path: string, body?: unknown) {
    const r = await fetchWithTimeout(
      `${base}${path}`,
      { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
      hard,
    ).catch((e: Error) => {
      throw fail(`${method} ${path} failed: ${(e.cause as Error)?.message ?? e.message}`);
    });
    if ('timedOut' in r) throw fail(`${method} ${path} got no answer within ${hard} ms`);
    if (r.res.status === 401) throw fail('refused our credentials (401)');
    if (r.res.status === 412) throw fail(`does not support API version ${API_VERSION} (412)`);
    const json = r.text.trim() ? tryJson(r.text) : {};
    if (json === undefined || typeof json !== 'object' || json === null || Array.isArray(json))
      throw fail(
        `${method} ${path} answered ${r.res.status} with something that is not a JSON object: ${r.text.slice(0, 60)}`,
      );
    return { status: r.res.status, json: json as Record<string, any> };
  }

  const unexpected = (what: string, r: { status: number; json: Record<string, any> }) =>
    fail(
      `${what} answered ${r.status}${r.json.description ? `: ${r.json.description}` : r.json.error ? `: ${r.json.error}` : ''}`,
    );

  /** Poll last_operation until it settles; `gone` (410) counts as success for deletes. */
  async function waitOperation(
    action: string,
    svc: OsbService,
    iid: string,
    planId: string,
    operation: unknown,
  ) {
    const q = new URLSearchParams({ service_id: svc.id, plan_id: planId });
    if (typeof operation === 'string') q.set('operation', operation);
    const deadline = Date.now() + (opts.operationTimeoutMs ?? 600_000);
    let wait = opts.pollIntervalMs ?? 250;
    for (;;) {
      await sleep(wait);
      wait = Math.min(wait * 1.5, 5000);
      const r = await call('GET', `/v2/service_instances/${encodeURIComponent(iid)}/last_operation?${q}`);
      if (r.status === 410 && action === 'deprovision') return;
      if (r.status !== 200) throw unexpected(`last_operation of ${iid}`, r);
      const state = r.json.state;
      if (state === 'succeeded') return;
      if (state === 'failed')
        throw addonErrors.SLIPWAY_ERR_OSB_OPERATION_FAILED({
          broker,
          action,
          service: svc.name,
          id: iid,
          detail: r.json.description ?? 'no description',
        });
      if (state !== 'in progress')
        throw fail(`last_operation of ${iid} has unknown state ${JSON.stringify(state)}`);
      if (Date.now() > deadline)
        throw fail(`${action} of ${iid} still in progress after the operation timeout`);
    }
  }

  async function provision(svc: OsbService, req: ProvisionRequest): Promise<ProvisionResult> {
    const plan = req.plan ? svc.plans.find((p) => p.name === req.plan) : svc.plans[0];
    if (!plan)
      throw addonErrors.SLIPWAY_ERR_ADDON_PLAN_UNKNOWN({
        addon: svc.name,
        plan: req.plan,
        plans: svc.plans.map((p) => p.name).join(', '),
      });
    const iid = encodeURIComponent(req.uuid);
    const context = { platform: 'slipway', app: req.app };
    const r = await call('PUT', `/v2/service_instances/${iid}?accepts_incomplete=true`, {
      service_id: svc.id,
      plan_id: plan.id,
      organization_guid: 'slipway',
      space_guid: req.app || 'slipway',
      context,
      parameters: req.options ?? {},
    });
    if (r.status === 202) await waitOperation('provision', svc, req.uuid, plan.id, r.json.operation);
    else if (r.status !== 200 && r.status !== 201) throw unexpected(`provision of ${svc.name}`, r);
    const prefix = (req.name || svc.name).toUpperCase().replace(/[^A-Z0-9]+/g, '_');
    let config: Record<string, string> = {};
    if (svc.bindable !== false) {
      const b = await call('PUT', `/v2/service_instances/${iid}/service_bindings/${iid}`, {
        service_id: svc.id,
        plan_id: plan.id,
        bind_resource: { app_guid: req.app },
        context,
      });
      if (b.status !== 200 && b.status !== 201) throw unexpected(`bind of ${svc.name}`, b);
      const creds = b.json.credentials;
      if (creds !== undefined && (typeof creds !== 'object' || creds === null || Array.isArray(creds)))
        throw fail(`bind of ${svc.name} returned credentials that are not an object`);
      config = credentialsToConfig(prefix, creds ?? {});
    }
    instances.set(req.uuid, { service: svc, planId: plan.id, name: prefix, config });
    return { id: req.uuid, config, message: `${svc.name} (${plan.name}) from broker ${broker}` };
  }

  return {
    name: pluginName,
    get catalog() {
      return catalog;
    },
    async apply(kernel: Kernel) {
      if (!catalog) {
        const r = await call('GET', '/v2/catalog');
        if (r.status !== 200) throw unexpected('GET /v2/catalog', r);
        const problem = catalogProblem(r.json);
        if (problem) throw fail(problem);
        catalog = r.json.services as OsbService[];
      }
      const wanted = catalog.filter((s) => !opts.services || opts.services.includes(s.name));
      for (const svc of wanted) {
        kernel.catalog.addons.set(svc.name, {
          service: svc.name,
          name: svc.description ?? svc.name,
          plugin: pluginName,
          plans: svc.plans.map((p, i) => ({
            name: p.name,
            ...(p.description ? { description: p.description } : {}),
            default: i === 0,
          })),
          // Credentials are known only after binding; see the mapping rule above.
          configVars: [],
        });
        kernel.hooks.provision.for(svc.name).tapPromise(pluginName, (req) => provision(svc, req));
        // The platform's state names the plan an instance is on (`previousPlan`, `plan`); this
        // plugin's memory of it does not survive a platform restart.
        const planId = (name: string | undefined) => svc.plans.find((p) => p.name === name)?.id;
        kernel.hooks.planChange.for(svc.name).tapPromise(pluginName, async (req) => {
          const inst = instances.get(req.id);
          const plan = svc.plans.find((p) => p.name === req.plan);
          if (!plan)
            throw addonErrors.SLIPWAY_ERR_ADDON_PLAN_UNKNOWN({
              addon: svc.name,
              plan: req.plan,
              plans: svc.plans.map((p) => p.name).join(', '),
            });
          const r = await call(
            'PATCH',
            `/v2/service_instances/${encodeURIComponent(req.id)}?accepts_incomplete=true`,
            {
              service_id: svc.id,
              plan_id: plan.id,
              previous_values: {
                plan_id: inst?.planId ?? planId(req.previousPlan) ?? svc.plans[0]!.id,
                service_id: svc.id,
              },
            },
          );
          if (r.status === 202) await waitOperation('plan change', svc, req.id, plan.id, r.json.operation);
          else if (r.status !== 200) throw unexpected(`plan change of ${req.id}`, r);
          if (!inst) return undefined; // credentials unknown here: the app keeps its config vars
          inst.planId = plan.id;
          return { id: req.id, config: inst.config };
        });
        kernel.hooks.deprovision.for(svc.name).tapPromise(pluginName, async (req) => {
          const inst = instances.get(req.id);
          const plan = inst?.planId ?? planId(req.plan) ?? svc.plans[0]!.id;
          const q = new URLSearchParams({ service_id: svc.id, plan_id: plan });
          const iid = encodeURIComponent(req.id);
          if (svc.bindable !== false) {
            const u = await call('DELETE', `/v2/service_instances/${iid}/service_bindings/${iid}?${q}`);
            if (u.status !== 200 && u.status !== 410) throw unexpected(`unbind of ${req.id}`, u);
          }
          q.set('accepts_incomplete', 'true');
          const d = await call('DELETE', `/v2/service_instances/${iid}?${q}`);
          if (d.status === 202) await waitOperation('deprovision', svc, req.id, plan, d.json.operation);
          else if (d.status !== 200 && d.status !== 410) throw unexpected(`deprovision of ${req.id}`, d);
          instances.delete(req.id);
        });
      }
    },
  };
}
