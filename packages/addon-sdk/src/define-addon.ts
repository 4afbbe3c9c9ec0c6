/**
 * `defineAddon`: turn a provider definition into a two-phase kernel plugin. Its `register`
 * (pure, replayed in build workers) adds the add-on to the catalogue and taps `provision` /
 * `planChange` / `deprovision` for its id; its start, at `kernel.start()`, starts the
 * provider's host (and its backing servers), and the kernel's close stops it. The taps hand
 * back config under the names the app sees (attachment naming applied).
 */
import { dynoRuntimeRef, type Kernel, type Plugin, type ProvisionResult } from '@slipway/core';
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
  return !!x && typeof x === 'object' && 'definition' in x && 'manifest' in x && 'register' in x;
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
    register(reg, opts: AddonPluginOptions<O>) {
      // One host per kernel: the taps reach the one this kernel's start made.
      let host: AddonHost<O, S> | undefined;
      const started = () => {
        if (!host) throw new Error(`add-on ${manifest.id} is not started (kernel.start() has not run)`);
        return host;
      };
      const actions = actionEntries(definition, (action, req) => started().action(action, req));
      reg.addon({ ...catalogEntry(manifest, name), ...(actions.size ? { actions } : {}) });
      reg.hooks.provision
        .for(manifest.id)
        .tapPromise(name, async (req) => appResult(manifest, await started().provision(req)));
      reg.hooks.planChange
        .for(manifest.id)
        .tapPromise(name, async (req) => appResult(manifest, await started().planChange(req)));
      reg.hooks.deprovision.for(manifest.id).tapPromise(name, async (req) => {
        await started().deprovision(req);
      });
      reg.onStart(async (kernel: Kernel) => {
        const { dataDir, ...options } = { ...(opts ?? {}) } as AddonPluginOptions<O> &
          Record<string, unknown>;
        // Dynos that reach the host elsewhere than loopback (Docker's bridge gateway): a provider
        // that takes both `listen` and `host` serves there, unless its options say otherwise.
        const runtime = kernel.tryResolve(dynoRuntimeRef);
        const address = runtime?.hostAddress;
        const props = (definition.optionsSchema as { properties?: Record<string, unknown> } | undefined)
          ?.properties;
        if (
          address &&
          props?.listen &&
          props.host &&
          options.listen === undefined &&
          options.host === undefined
        )
          Object.assign(options, { listen: address, host: runtime?.dynoHostAddress ?? address });
        host = new AddonHost<O, S>(definition, {
          ...hostDefaults,
          ...(dataDir ? { dataDir } : {}),
          options,
        });
        hosts.push(host);
        await host.start();
      });
      reg.onStop(() => host?.close());
    },
    async close() {
      await Promise.all(hosts.map((h) => h.close()));
    },
  };
}
