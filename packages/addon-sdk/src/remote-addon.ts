/**
 * `remoteAddon`: a kernel plugin for a provider that lives elsewhere and speaks the Heroku
 * partner API. It registers the add-on from its manifest and taps provision / planChange /
 * deprovision with HTTP calls (Basic auth `id:password`, 25 s hard timeout). A 202 answer is
 * finished by the provider's callback (see CallbackListener) or, failing that, by polling
 * `GET <url>/:id` (served by `serveAddon`). Attachment naming is applied here, as Heroku does.
 */
import type { Plugin, ProvisionRequest, ProvisionResult } from '@slipway/core';
import { CallbackListener, type CallbackOptions } from './callback-listener.js';
import { attachConfig, checkResult } from './config-vars.js';
import { addonErrors } from './errors.js';
import { basicAuth, fetchWithTimeout, sleep, tryJson } from './http-util.js';
import { type AddonManifest, catalogEntry, resolvePlan, validateManifest } from './manifest.js';

/** Options of `remoteAddon`. */
export interface RemoteAddonOptions {
  manifest: AddonManifest;
  /** Base URL ending in /heroku/resources; default `api.production.base_url` then `api.test`. */
  url?: string;
  /** Default `api.password`. */
  password?: string;
  /** Hard timeout of one HTTP call; default 25 s (Heroku's). */
  timeoutMs?: number;
  /** How long to wait for an asynchronous (202) provision to finish; default 10 min. */
  asyncTimeoutMs?: number;
  /** First poll interval after a 202 (doubles up to 5 s); default 500 ms. */
  pollIntervalMs?: number;
  /** Where the callback listener binds. */
  callback?: CallbackOptions;
  /** Plugin name; default `remote-addon-<id>`. */
  pluginName?: string;
}

/** The plugin `remoteAddon` returns. */
export interface RemoteAddonPlugin extends Plugin<Record<string, unknown>> {
  readonly manifest: AddonManifest;
  /** Stop the callback listener. */
  close(): Promise<void>;
}

function baseUrlOf(m: AddonManifest): string | undefined {
  const t = m.api.test;
  return m.api.production?.base_url ?? (typeof t === 'string' ? t : t?.base_url);
}

/** Register a remote partner-API provider with the kernel. */
export function remoteAddon(opts: RemoteAddonOptions): RemoteAddonPlugin {
  const manifest = validateManifest(opts.manifest, 'remoteAddon');
  const url = (opts.url ?? baseUrlOf(manifest) ?? '').replace(/\/$/, '');
  const password = opts.password ?? manifest.api.password;
  if (!url) throw new TypeError(`remoteAddon(${manifest.id}): give url or api.production.base_url`);
  if (!password) throw new TypeError(`remoteAddon(${manifest.id}): give password or api.password`);
  const id = manifest.id;
  const name = opts.pluginName ?? `remote-addon-${id}`;
  const hard = opts.timeoutMs ?? 25_000;
  const auth = basicAuth(id, password);
  const callbacks = new CallbackListener(id, password, opts.callback);
  // Plan change and deprovision requests carry no attachment name; remember it per resource.
  const attachments = new Map<string, string>();

  const fail = (detail: string) => addonErrors.SLIPWAY_ERR_ADDON_REMOTE({ addon: id, url, detail });

  async function call(method: string, path: string, action: string, body?: unknown) {
    const r = await fetchWithTimeout(
      `${url}${path}`,
      {
        method,
        headers: { authorization: auth, accept: 'application/json', 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      hard,
    ).catch((e: Error) => {
      throw fail(`${action} request failed: ${(e.cause as Error)?.message ?? e.message}`);
    });
    if ('timedOut' in r)
      throw addonErrors.SLIPWAY_ERR_ADDON_REMOTE_TIMEOUT({ addon: id, url, action, ms: hard });
    const json = r.text ? tryJson(r.text) : {};
    if (r.res.status === 401 || r.res.status === 403)
      throw fail(`${action} refused our credentials (${r.res.status})`);
    return { status: r.res.status, json, text: r.text };
  }

  function errorOf(action: string, x: { status: number; json: unknown; text: string }) {
    const msg = (x.json as { message?: unknown })?.message;
    const detail =
      typeof msg === 'string' ? msg : x.json === undefined ? `non-JSON answer: ${x.text.slice(0, 80)}` : '';
    return fail(`${action} answered ${x.status}${detail ? `: ${detail}` : ''}`);
  }

  /** Wait for the callback or a poll that says the resource is done. */
  async function awaitAsync(req: ProvisionRequest, pending: string): Promise<unknown> {
    const ac = new AbortController();
    const limit = opts.asyncTimeoutMs ?? 600_000;
    const timer = setTimeout(() => ac.abort(), limit);
    const viaCallback = callbacks.wait(req.uuid, ac.signal);
    const viaPoll = (async () => {
      let wait = opts.pollIntervalMs ?? 500;
      while (!ac.signal.aborted) {
        await sleep(wait);
        wait = Math.min(wait * 2, 5000);
        if (ac.signal.aborted) return undefined;
        const r = await call('GET', `/${encodeURIComponent(pending)}`, 'status poll').catch(() => undefined);
        const st = (r?.json as { state?: string } | undefined)?.state;
        if (r?.status === 200 && (st === 'provisioned' || st === 'failed')) return r.json;
      }
      return undefined;
    })();
    try {
      const body = await Promise.race([viaCallback, viaPoll]);
      if (body === undefined)
        throw addonErrors.SLIPWAY_ERR_ADDON_REMOTE_TIMEOUT({
          addon: id,
          url,
          action: 'asynchronous provision',
          ms: limit,
        });
      return body;
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
  }

  async function provision(req: ProvisionRequest): Promise<ProvisionResult> {
    const plan = resolvePlan(manifest, req.plan);
    const callback_url = await callbacks.urlFor(req.uuid);
    const r = await call('POST', '', 'provision', {
      uuid: req.uuid,
      plan,
      region: req.region ?? null,
      callback_url,
      options: req.options ?? {},
      name: req.name,
      app: req.app,
    });
    let body: unknown;
    if (r.status === 200 || r.status === 201) body = r.json;
    else if (r.status === 202) {
      const pending = (r.json as { id?: unknown })?.id;
      body = await awaitAsync(req, typeof pending === 'string' ? pending : req.uuid);
      if ((body as { state?: string })?.state === 'failed')
        throw fail(
          `asynchronous provision failed: ${(body as { message?: string }).message ?? 'no reason given'}`,
        );
    } else throw errorOf('provision', r);
    if (r.json === undefined) throw fail('provision answered non-JSON');
    const result = checkResult(manifest, body, 'provision', { options: req.options ?? {} });
    attachments.set(result.id, req.name);
    attachments.set(req.uuid, req.name);
    return { ...result, config: attachConfig(manifest, result.config, req.name) };
  }

  return {
    name,
    manifest,
    // Pure: the catalogue entry and the taps; the callback listener starts on the first async provision.
    register(reg) {
      reg.addon(catalogEntry(manifest, name, id));
      reg.hooks.provision.for(id).tapPromise(name, provision);
      reg.hooks.planChange.for(id).tapPromise(name, async (req) => {
        const plan = resolvePlan(manifest, req.plan);
        const r = await call('PUT', `/${encodeURIComponent(req.id)}`, 'plan change', { plan });
        if (r.status !== 200 && r.status !== 201) throw errorOf('plan change', r);
        if (r.json === undefined || typeof r.json !== 'object') throw fail('plan change answered non-JSON');
        const result = checkResult(manifest, { id: req.id, ...(r.json as object) }, 'plan change', {
          expectId: req.id,
        });
        const att = attachments.get(req.id) ?? attachments.get(req.uuid) ?? '';
        return { ...result, config: attachConfig(manifest, result.config, att) };
      });
      reg.hooks.deprovision.for(id).tapPromise(name, async (req) => {
        const r = await call('DELETE', `/${encodeURIComponent(req.id)}`, 'deprovision');
        // Already gone is fine: deprovision is idempotent.
        if (![200, 202, 204, 404, 410].includes(r.status)) throw errorOf('deprovision', r);
        attachments.delete(req.id);
        attachments.delete(req.uuid);
      });
      // The callback listener (async provisions) closes with the platform: kernel.close().
      reg.hooks.shutdown.tapPromise(name, () => callbacks.close());
    },
    close: () => callbacks.close(),
  };
}
