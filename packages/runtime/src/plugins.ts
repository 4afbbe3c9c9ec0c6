/**
 * Which plugins the reference platform composes. With a slipway.config file, exactly what it
 * lists; without one, the first-party buildpacks and add-ons that are installed. A missing or
 * broken first-party plugin is reported and skipped, so the platform still starts (e.g. `--demo`
 * on a machine without a JDK still deploys the other examples).
 */
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAddonPlugin } from '@slipway/addon-sdk';
import {
  createKernel,
  isSlipwayError,
  Kernel,
  loadConfig,
  loadPlugin,
  type Plugin,
  type PluginEntry,
} from '@slipway/core';

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
  /** slipway.config file; false or absent = none, use `defaults`. */
  configFile?: string | false;
  /** Default plugin specifiers used when there is no config file. */
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
}

/** A provider plugin (defineAddon's), whose apply starts backing servers. */
const isProvider = (p: Plugin<any>) => isAddonPlugin(p);

/** The options a plugin gets: the add-on data dir filled in for providers. */
function optionsFor(plugin: Plugin<any>, options: Record<string, unknown> | undefined, recipe: KernelRecipe) {
  if (!recipe.dataDir || !isProvider(plugin) || options?.dataDir) return options;
  return { ...options, dataDir: recipe.dataDir };
}

/** Load a config-file plugin entry (strings resolve from the config file's directory). */
async function loadEntry(
  entry: PluginEntry,
  fromDir: string,
): Promise<[Plugin<any>, Record<string, unknown> | undefined]> {
  if (typeof entry === 'string') return [await loadPlugin(entry, fromDir), undefined];
  if (Array.isArray(entry)) {
    const [p, o] = entry;
    return [typeof p === 'string' ? await loadPlugin(p, fromDir) : p, o];
  }
  if ('use' in entry && typeof entry.use === 'string')
    return [await loadPlugin(entry.use, fromDir), entry.options];
  return [entry as Plugin<any>, undefined];
}

/** Build a kernel from a recipe; `skipped` lists the defaults that could not be loaded and why. */
export async function composeKernel(recipe: KernelRecipe): Promise<{ kernel: Kernel; skipped: string[] }> {
  const skipped: string[] = [];
  if (recipe.configFile) {
    if (!recipe.dataDir && !recipe.withoutAddons) {
      const { kernel } = await createKernel({ configFile: recipe.configFile });
      return { kernel, skipped };
    }
    // As createKernel does (every module loaded before any is applied), plus the data dir for
    // providers, or no providers at all in a build worker.
    const file = resolve(recipe.configFile);
    const config = await loadConfig(file);
    const loaded: [Plugin<any>, Record<string, unknown> | undefined][] = [];
    for (const [i, entry] of config.plugins.entries()) {
      try {
        loaded.push(await loadEntry(entry, dirname(file)));
      } catch (e) {
        if (isSlipwayError(e)) e.message += ` (${basename(file)} plugins[${i}])`;
        throw e;
      }
    }
    const kernel = new Kernel();
    for (const [plugin, options] of loaded) {
      if (recipe.withoutAddons && isProvider(plugin)) continue;
      await kernel.use(plugin, optionsFor(plugin, options, recipe), { file });
    }
    return { kernel, skipped };
  }
  // Each default plugin is loaded and applied on its own: one that cannot start (a toolchain
  // or port it needs is missing) is reported and skipped instead of stopping the platform.
  const kernel = new Kernel();
  for (const spec of recipe.defaults ?? []) {
    try {
      const plugin = await loadPlugin(spec, PACKAGE_DIR);
      if (recipe.withoutAddons && isProvider(plugin)) continue;
      await kernel.use(plugin, optionsFor(plugin, undefined, recipe));
    } catch (e) {
      skipped.push(`${spec}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return { kernel, skipped };
}
