/**
 * Which plugins the reference platform composes. With a slipway.config file, exactly what it
 * lists; without one, the first-party buildpacks and add-ons that are installed. A missing or
 * broken first-party plugin is reported and skipped, so the platform still starts (e.g. `--demo`
 * on a machine without a JDK still deploys the other examples).
 */
import { fileURLToPath } from 'node:url';
import { createKernel, Kernel, loadPlugin } from '@slipway/core';

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
}

/** Build a kernel from a recipe; `skipped` lists the defaults that could not be loaded and why. */
export async function composeKernel(recipe: KernelRecipe): Promise<{ kernel: Kernel; skipped: string[] }> {
  const skipped: string[] = [];
  if (recipe.configFile) {
    const { kernel } = await createKernel({ configFile: recipe.configFile });
    return { kernel, skipped };
  }
  // Each default plugin is loaded and applied on its own: one that cannot start (a toolchain
  // or port it needs is missing) is reported and skipped instead of stopping the platform.
  const kernel = new Kernel();
  for (const spec of recipe.defaults ?? []) {
    try {
      await kernel.use(await loadPlugin(spec, PACKAGE_DIR));
    } catch (e) {
      skipped.push(`${spec}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return { kernel, skipped };
}
