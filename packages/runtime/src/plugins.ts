/**
 * Which plugins the reference platform composes: the first-party buildpacks and add-ons that
 * are installed, plus what a slipway.config file lists (it adds to them, can `disable` some, or
 * keep none with `"defaults": false`; see core's config.ts). Its specifiers resolve from the
 * config file's directory, then from this install. A missing or broken first-party plugin is
 * reported and skipped, so the platform still starts (e.g. `--demo` on a machine without a JDK
 * still deploys the other examples).
 */
import { fileURLToPath } from 'node:url';
import { isAddonPlugin } from '@slipway/addon-sdk';
import { createKernel, type Kernel, type Plugin, type SlipwayConfig } from '@slipway/core';

/** First-party buildpacks, in detection order. */
export const DEFAULT_BUILDPACKS = [
  '@slipway/buildpack-nodejs',
  '@slipway/buildpack-python',
  '@slipway/buildpack-java',
  '@slipway/buildpack-go',
];
/** First-party add-on providers. */
export const DEFAULT_ADDONS = ['@slipway/addon-postgres', '@slipway/addon-redis', '@slipway/addon-mail'];

/** Where default plugins resolve from: this package (inside the workspace or node_modules). */
export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** How to compose a kernel; serialisable, because build workers receive it over IPC. */
export interface KernelRecipe {
  /** slipway.config file; false or absent = none, `defaults` only. */
  configFile?: string | false;
  /** Default plugin specifiers; the config file's plugins add to them. */
  defaults?: string[];
  /**
   * The platform data dir: add-on providers keep their data under it (their `dataDir` option,
   * unless the config file sets one), instead of the SDK's default ~/.slipway/data.
   */
  dataDir?: string;
  /**
   * For a build worker: leave add-on providers out. Applying one runs its setup, which starts
   * (and would take over) the platform's backing servers.
   */
  withoutAddons?: boolean;
  /**
   * Where dynos reach the host's services (the Docker runtime's bridge gateway). Add-on
   * providers that declare `listen` and `host` options get it for both, unless their entry sets
   * them: their servers then listen where containers reach them, and on no public address.
   */
  addonAddress?: string;
  /**
   * The address dynos name for those servers (`host`) when it is not where they listen: the
   * swarm runtime's edge gateway on the overlay, which forwards to `addonAddress`.
   */
  addonHost?: string;
}

/**
 * Options an add-on provider gets unless its entry sets them: the platform's data dir, and the
 * address dynos reach the host at (`listen` and `host`, for providers that declare both).
 */
export function addonDefaults(
  plugin: Plugin<any>,
  o: Pick<KernelRecipe, 'dataDir' | 'addonAddress' | 'addonHost'>,
): Record<string, unknown> | undefined {
  if (!isAddonPlugin(plugin) || !(o.dataDir || o.addonAddress)) return undefined;
  const props = (plugin.optionsSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return {
    ...(o.dataDir ? { dataDir: o.dataDir } : {}),
    ...(o.addonAddress && props?.listen && props.host
      ? { listen: o.addonAddress, host: o.addonHost ?? o.addonAddress }
      : {}),
  };
}

/**
 * Build a kernel from a recipe; `skipped` lists the defaults that could not be loaded and why,
 * `config` is the config file as read (for its `platform` section). `loaded` is the recipe's
 * config file when the caller has read it already.
 */
export async function composeKernel(
  recipe: KernelRecipe,
  loaded?: SlipwayConfig,
): Promise<{ kernel: Kernel; skipped: string[]; config?: SlipwayConfig }> {
  const skipped: string[] = [];
  // The data dir for add-on providers (unless the config sets one), or no providers at all in a
  // build worker: a provider's apply starts its backing servers.
  const defaults = (plugin: Plugin<any>) => addonDefaults(plugin, recipe);
  const skip = (plugin: Plugin<any>) => recipe.withoutAddons === true && isAddonPlugin(plugin);
  const { kernel, config } = await createKernel({
    configFile: recipe.configFile || false,
    ...(loaded ? { config: loaded } : {}),
    defaultPlugins: recipe.defaults ?? [],
    resolveFrom: PACKAGE_DIR,
    defaults,
    skip,
    // A default that cannot start (a toolchain or port it needs is missing) is reported and
    // skipped instead of stopping the platform.
    onDefaultFailed: (spec, e) => skipped.push(`${spec}: ${(e as Error).message.split('\n')[0]}`),
  });
  return { kernel, skipped, ...(recipe.configFile ? { config } : {}) };
}
