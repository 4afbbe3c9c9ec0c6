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
import { createKernel, type Kernel, type Plugin, type PluginEntry, type SlipwayConfig } from '@slipway/core';

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
}

/** Options an add-on provider gets unless its entry sets them: the platform's data dir. */
export function addonDefaults(
  plugin: Plugin<unknown>,
  o: Pick<KernelRecipe, 'dataDir'>,
): Record<string, unknown> | undefined {
  return isAddonPlugin(plugin) && o.dataDir ? { dataDir: o.dataDir } : undefined;
}

/**
 * Build a kernel from a recipe: `register` only (or `apply`, for one-phase plugins); nothing is
 * started until `kernel.start()`, so a build worker replays the very registrations the platform
 * made (add-on providers included) without starting their servers. `skipped` lists the
 * defaults that could not be loaded and why, `config` is the config file as read (for its
 * `platform` section). `loaded` is the recipe's config file when the caller has read it already;
 * `extra` are plugin objects the platform process adds after the config's (not serialisable, so
 * not in the recipe: a build worker relays the build hooks to the platform instead); `builtins`
 * are the platform's own feature plugins, defaults as the recipe's are.
 */
export async function composeKernel(
  recipe: KernelRecipe,
  loaded?: SlipwayConfig,
  extra: PluginEntry[] = [],
  builtins: readonly Plugin[] = [],
): Promise<{ kernel: Kernel; skipped: string[]; config?: SlipwayConfig }> {
  const skipped: string[] = [];
  const { kernel, config } = await createKernel({
    configFile: recipe.configFile || false,
    ...(loaded ? { config: loaded } : {}),
    // `builtins`: the platform's features (features.ts), defaults the config may disable or replace by name.
    defaultPlugins: [...(recipe.defaults ?? []), ...builtins],
    plugins: extra,
    resolveFrom: PACKAGE_DIR,
    // Add-on providers keep their data under the platform's data dir, unless the config says.
    defaults: (plugin) => addonDefaults(plugin, recipe),
    // A default that cannot start (a toolchain or port it needs is missing) is reported and
    // skipped instead of stopping the platform.
    onDefaultFailed: (spec, e) => skipped.push(`${spec}: ${(e as Error).message.split('\n')[0]}`),
  });
  return { kernel, skipped, ...(recipe.configFile ? { config } : {}) };
}
