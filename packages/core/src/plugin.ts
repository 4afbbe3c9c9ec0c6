/**
 * A plugin is `{ name, apply(kernel, options) }` (webpack's shape) plus what the kernel checks
 * before applying it: the kernel versions it supports, the services it needs and the JSON
 * Schema of its options.
 */
import type { AddonActionEntry } from './addon-actions.js';
import type { Kernel } from './kernel.js';
import type { ServiceRef } from './services.js';

/** A Slipway plugin. */
export interface Plugin<Options = Record<string, unknown>> {
  /** Unique name, usually the npm package name. Every tap carries it. */
  name: string;
  /** semver range of kernel versions this plugin works with, e.g. `^0.1.0`. */
  kernel?: string;
  /** Services that must be registered (by any plugin) before the kernel is ready. */
  needs?: readonly ServiceRef<unknown>[];
  /** JSON Schema of the options; validated (defaults applied) before `apply`. */
  optionsSchema?: object;
  /** Tap hooks and register services. May be async. */
  apply(kernel: Kernel, options: Options): void | Promise<void>;
}

/** Identity helper that types a plugin. */
export function definePlugin<Options = Record<string, unknown>>(plugin: Plugin<Options>): Plugin<Options> {
  return plugin;
}

/** A buildpack known to the kernel (added by `defineBuildpack` or a classic buildpack). */
export interface BuildpackEntry {
  id: string;
  /** Human name: `Node.js`. */
  name: string;
  /** Plugin that registered it. */
  plugin: string;
  /** Where it came from (package, path or URL), for listings. */
  source?: string;
}

/** A plan an add-on service offers. */
export interface AddonPlanEntry {
  name: string;
  description?: string;
  default?: boolean;
  /**
   * Other services' plan names that mean this plan (`essential-0`, or a family `standard-*`):
   * what `addons:create heroku-postgresql:essential-0` and app.json resolve to.
   */
  aliases?: readonly string[];
}

/** An add-on service known to the kernel. */
export interface AddonEntry {
  /** Service name users type: `postgres` in `addons:create postgres:shared`. */
  service: string;
  name: string;
  plugin: string;
  plans: readonly AddonPlanEntry[];
  /** Config var names the provider sets, before prefixing by attachment name. */
  configVars: readonly string[];
  /** Other names of the service users may type (`heroku-postgresql` for `postgres`). */
  aliases?: readonly string[];
  /** Extra operations the provider offers on its resources, by name (see addon-actions.ts). */
  actions?: ReadonlyMap<string, AddonActionEntry>;
}

/** What plugins have added; only ever added to (a catalogue, not a control surface). */
export interface Catalog {
  readonly buildpacks: Map<string, BuildpackEntry>;
  readonly addons: Map<string, AddonEntry>;
}
