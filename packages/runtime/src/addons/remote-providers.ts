/**
 * Remote add-on providers in the platform's config: partner-API providers (registered from their
 * manifest, a file or an http(s) URL, plus the API password) and Open Service Brokers. They live
 * in the `platform.addons` section of slipway.config.json, beside the plugin list, because they
 * are data (URLs and secrets), not code:
 *
 * ```json
 * { "plugins": ["@slipway/addon-postgres"],
 *   "platform": { "addons": {
 *     "remote": [{ "manifest": "./acme-manifest.json", "password": "…", "url": "http://…/heroku/resources" }],
 *     "osbBrokers": [{ "url": "http://broker:8080", "username": "u", "password": "p" }] } } }
 * ```
 *
 * `startPlatform({ addonProviders })` takes the same shape without a config file.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type AddonManifest, osbBroker, remoteAddon } from '@slipway/addon-sdk';
import type { Kernel, SlipwayConfig } from '@slipway/core';
import { firstLine } from '../addon-service.js';
import { runtimeErrors } from '../errors.js';

/** One partner-API provider. */
export interface RemoteProviderConfig {
  /** Manifest: a path (relative to the config file), an http(s) URL, or the manifest itself. */
  manifest: string | AddonManifest;
  /** Base URL ending in /heroku/resources; default the manifest's `api.production.base_url`. */
  url?: string;
  /** Partner API password; default the manifest's `api.password`. */
  password?: string;
  /** Hard timeout of one call (ms); default 25 s. */
  timeoutMs?: number;
}

/** One Open Service Broker. */
export interface OsbBrokerConfig {
  url: string;
  username: string;
  password: string;
  /** Only offer these services (by catalog name). */
  services?: string[];
  name?: string;
}

/** The `platform.addons` section. */
export interface AddonProvidersConfig {
  remote?: RemoteProviderConfig[];
  osbBrokers?: OsbBrokerConfig[];
}

/** `platform.addons` of a loaded slipway.config (empty when absent). */
export function providersOf(config: SlipwayConfig | undefined): AddonProvidersConfig {
  return (config?.platform as { addons?: AddonProvidersConfig } | undefined)?.addons ?? {};
}

async function readManifest(spec: RemoteProviderConfig['manifest'], baseDir: string): Promise<AddonManifest> {
  if (typeof spec !== 'string') return spec;
  try {
    if (/^https?:\/\//.test(spec)) {
      const res = await fetch(spec, { signal: AbortSignal.timeout(25_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return (await res.json()) as AddonManifest;
    }
    return JSON.parse(await readFile(resolve(baseDir, spec), 'utf8')) as AddonManifest;
  } catch (e) {
    throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON(
      {
        service: spec,
        detail: `cannot read the manifest: ${(e as Error).message}`,
        known: '(see above)',
        example: 'SERVICE:PLAN',
      },
      { cause: e },
    );
  }
}

/**
 * Register the configured remote providers with the kernel; each one's callback listener is
 * stopped by `kernel.close()`. `baseDir` resolves relative manifest paths. One that cannot be
 * registered (manifest unreachable, broker down at start) is reported in the result and
 * skipped, like a default plugin that cannot load: the platform still starts.
 */
export async function useRemoteProviders(
  kernel: Kernel,
  cfg: AddonProvidersConfig,
  baseDir: string,
): Promise<string[]> {
  const skipped: string[] = [];
  for (const r of cfg.remote ?? []) {
    const label = typeof r.manifest === 'string' ? r.manifest : r.manifest.id;
    try {
      const plugin = remoteAddon({
        manifest: await readManifest(r.manifest, baseDir),
        ...(r.url ? { url: r.url } : {}),
        ...(r.password ? { password: r.password } : {}),
        ...(r.timeoutMs ? { timeoutMs: r.timeoutMs } : {}),
      });
      await kernel.use(plugin);
    } catch (e) {
      skipped.push(`remote add-on ${label}: ${firstLine(e)}`);
    }
  }
  for (const b of cfg.osbBrokers ?? []) {
    try {
      await kernel.use(osbBroker(b));
    } catch (e) {
      skipped.push(`OSB broker ${b.url}: ${firstLine(e)}`);
    }
  }
  return skipped;
}

/** The config file's directory (relative manifest paths start there). */
export const configBaseDir = (file: string): string => dirname(resolve(file));

/** Both lists of two provider configs, one after the other. */
export function mergeProviders(a: AddonProvidersConfig, b: AddonProvidersConfig = {}): AddonProvidersConfig {
  return {
    remote: [...(a.remote ?? []), ...(b.remote ?? [])],
    osbBrokers: [...(a.osbBrokers ?? []), ...(b.osbBrokers ?? [])],
  };
}
