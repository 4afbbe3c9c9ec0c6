/**
 * `defineAddon`: turn a provider definition into a kernel plugin that registers the add-on in
 * `kernel.catalog.addons` and taps `provision` / `planChange` / `deprovision` for its id. The
 * taps hand back config under the names the app sees (attachment naming applied).
 */
import type { Kernel, Plugin, ProvisionResult } from '@slipway/core';
import { actionEntries, checkActionNames } from './actions.js';
import { AddonHost, type AddonHostOptions } from './addon-host.js';
import { attachConfig } from './config-vars.js';
import { type AddonDefinition, manifestOf } from './definition.js';
import { type AddonManifest, catalogEntry, validateManifest } from './manifest.js';
import type { ResourceRecord } from './resource-store.js';

/** Plugin options of an add-on: the platform data dir plus the provider's own options. */
export type AddonPluginOptions<O> = O & { dataDir?: string };

/** The plugin `defineAddon` returns; it also carries its definition and manifest. */
export interface AddonPlugin<O = Record<string, unknown>, S = unknown> extends Plugin<AddonPluginOptions<O>> {
  readonly definition: AddonDefinition<O, S>;
  readonly manifest: AddonManifest;
  /** The hosts this plugin runs (one per kernel it was applied to). */
  readonly hosts: readonly AddonHost<O, S>[];
  /** Stop the provider's supervised processes in every kernel it was applied to. */
  close(): Promise<void>;
}

/** True when `x` is a plugin made by defineAddon. */
export function isAddonPlugin(x: unknown): x is AddonPlugin<any, any> {
  return !!x && typeof x === 'object' && 'definition' in x && 'manifest' in x && 'apply' in x;
}

/** A ProvisionResult for the app from a stored record: attachment naming applied. */
export function appResult(manifest: AddonManifest, rec: ResourceRecord): ProvisionResult {
  return {
    id: rec.id,
    config: attachConfig(manifest, rec.config, rec.name),
    ...(rec.message ? { message: rec.message } : {}),
  };
}

/** Options schema of the plugin: the provider's, plus `dataDir`. */
function pluginOptionsSchema(schema: object | undefined): object {
  const base = (schema ?? { type: 'object' }) as { properties?: Record<string, unknown> };
  return { ...base, properties: { ...(base.properties ?? {}), dataDir: { type: 'string' } } };
}

/** Make an add-on provider plugin. The manifest is validated here, so a bad one fails at import. */
export function defineAddon<O = Record<string, unknown>, S = unknown>(
  definition: AddonDefinition<O, S>,
  hostDefaults: Omit<AddonHostOptions, 'options'> = {},
): AddonPlugin<O, S> {
  const manifest = validateManifest(manifestOf(definition), `add-on ${definition.id}`);
  checkActionNames(definition);
  const name = definition.pluginName ?? `addon-${definition.id}`;
  const hosts: AddonHost<O, S>[] = [];
  return {
    name,
    definition,
    manifest,
    hosts,
    ...(definition.kernel ? { kernel: definition.kernel } : {}),
    optionsSchema: pluginOptionsSchema(definition.optionsSchema),
    async apply(kernel: Kernel, opts: AddonPluginOptions<O>) {
      const { dataDir, ...options } = (opts ?? {}) as AddonPluginOptions<O>;
      const host = new AddonHost<O, S>(definition, {
        ...hostDefaults,
        ...(dataDir ? { dataDir } : {}),
        options: options as Record<string, unknown>,
      });
      hosts.push(host);
      await host.start();
      // The platform's kernel.close() stops this provider's supervised servers.
      kernel.hooks.shutdown.tapPromise(name, () => host.close());
      const actions = actionEntries(definition, (action, req) => host.action(action, req));
      kernel.catalog.addons.set(manifest.id, {
        ...catalogEntry(manifest, name),
        ...(actions.size ? { actions } : {}),
      });
      kernel.hooks.provision
        .for(manifest.id)
        .tapPromise(name, async (req) => appResult(manifest, await host.provision(req)));
      kernel.hooks.planChange
        .for(manifest.id)
        .tapPromise(name, async (req) => appResult(manifest, await host.planChange(req)));
      kernel.hooks.deprovision.for(manifest.id).tapPromise(name, async (req) => {
        await host.deprovision(req);
      });
    },
    async close() {
      await Promise.all(hosts.map((h) => h.close()));
    },
  };
}
