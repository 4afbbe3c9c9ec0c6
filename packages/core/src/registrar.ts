/**
 * The registrar a plugin's `register` gets: everything it declares is recorded under its name,
 * in the kernel's catalogue (buildpacks, add-ons, API route groups, owned tables) or in the
 * plugin's own lists (service factories, start and stop steps). A route group name or a table
 * family is claimed once: a second claim is refused with the first plugin named.
 */
import { coreErrors } from './errors.js';
import type { Kernel } from './kernel.js';
import type { PluginRegistrar, ServiceFactory } from './plugin.js';

/** Where the kernel keeps what is not in the catalogue. */
export interface RegistrarSinks {
  factory(factory: ServiceFactory<unknown>): void;
  onStart(fn: () => unknown): void;
  onStop(fn: () => unknown): void;
}

/** The registrar of plugin `name` on `kernel`. */
export function createRegistrar(name: string, kernel: Kernel, sinks: RegistrarSinks): PluginRegistrar {
  const { catalog } = kernel;
  return {
    name,
    hooks: kernel.hooks,
    catalog,
    buildpack: (bp) => {
      catalog.buildpacks.set(bp.id, { ...bp, plugin: name });
    },
    addon: (a) => {
      catalog.addons.set(a.service, { ...a, plugin: name });
    },
    apiRoutes: (group) => {
      const prev = catalog.apiRoutes.get(group.name);
      if (prev)
        throw coreErrors.SLIPWAY_ERR_PLUGIN_INVALID({
          plugin: name,
          detail: `its API route group "${group.name}" is already declared by plugin ${prev.plugin}`,
        });
      catalog.apiRoutes.set(group.name, { ...group, plugin: name });
    },
    migrations: (family, steps) => {
      const prev = catalog.migrations.get(family);
      if (prev || !/^[a-z][a-z0-9_]*$/.test(family))
        throw coreErrors.SLIPWAY_ERR_PLUGIN_INVALID({
          plugin: name,
          detail: prev
            ? `its table family "${family}" is already declared by plugin ${prev.plugin}`
            : `its table family "${family}" is not a lower-case SQL name (letters, digits, _)`,
        });
      catalog.migrations.set(family, { family, steps: [...steps], plugin: name });
    },
    service: <T>(factory: ServiceFactory<T>) => {
      sinks.factory(factory as ServiceFactory<unknown>);
    },
    onStart: (fn) => {
      sinks.onStart(() => fn(kernel));
    },
    onStop: (fn) => {
      sinks.onStop(fn);
    },
  };
}
