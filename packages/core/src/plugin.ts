/**
 * A plugin has two phases (Backstage's idea on webpack's shape). `register(reg, options)` is
 * pure and replayable: it declares what the plugin brings (catalogue entries, hook taps, service
 * factories) and starts nothing, so a build worker or a test can replay it. `start` and `stop`
 * hold the side effects (servers, timers); `kernel.start()` runs them once every service is
 * built. `apply(kernel, options)` is the older one-phase shape, still accepted: it runs at once.
 * The kernel checks before either: the kernel versions the plugin supports, the services it
 * needs and the JSON Schema of its options.
 */
import type { AddonActionEntry } from './addon-actions.js';
import type { KernelHooks } from './hooks.js';
import type { Kernel } from './kernel.js';
import type { ServiceRef } from './services.js';

/** What a service factory gets: its declared dependencies, and the kernel (for hooks). */
export interface ServiceFactoryContext {
  /** A dependency the factory declared in `deps` (an undeclared one throws). */
  get<T>(ref: ServiceRef<T>): T;
  readonly kernel: Kernel;
}

/** A service factory: how to build `ref` once its `deps` are built (Backstage's createServiceFactory). */
export interface ServiceFactory<T = unknown> {
  ref: ServiceRef<T>;
  /** Services built before this one and handed to `factory`. */
  deps?: readonly ServiceRef<unknown>[];
  factory(ctx: ServiceFactoryContext): T | Promise<T>;
  /** Release the service when the kernel closes (in reverse build order). */
  dispose?(service: T): void | Promise<void>;
  /**
   * A default: any other plugin's factory for the same ref replaces it, and the replaced one is
   * never called. Two factories for one ref that are both not defaults are an error.
   */
  default?: boolean;
}

/** Passed to `start` and `stop`: the kernel (services resolved) and the validated options. */
export interface PluginContext<Options> {
  readonly kernel: Kernel;
  readonly options: Options;
}

/** What `register` may declare. Everything is recorded under the plugin's name. */
export interface PluginRegistrar {
  /** The plugin's name (tap with it: every tap carries it). */
  readonly name: string;
  /** The hook map, to tap. */
  readonly hooks: KernelHooks;
  /** What other plugins registered so far (read it; add through `buildpack` / `addon`). */
  readonly catalog: Catalog;
  /** Add a buildpack to the catalogue (the buildpack SDK does this). */
  buildpack(entry: Omit<BuildpackEntry, 'plugin'>): void;
  /** Add an add-on service to the catalogue (the add-on SDK does this). */
  addon(entry: Omit<AddonEntry, 'plugin'>): void;
  /** Declare a service factory; built by `kernel.start()` in dependency order. */
  service<T>(factory: ServiceFactory<T>): void;
  /**
   * Declare an API route group: routes under `prefix`, mounted by the platform's HTTP layer as
   * one encapsulated group (an OpenAPI tag). Core does not know the routes' shape: the platform
   * names what `routes` receives.
   */
  apiRoutes(group: Omit<ApiRouteGroupEntry, 'plugin'>): void;
  /**
   * Declare the tables the plugin owns: `steps` (SQL) applied once each, in order, by the state
   * store, recorded under `family`. Append only, as any migration list.
   */
  migrations(family: string, steps: readonly string[]): void;
  /**
   * Side effects to run at `kernel.start()`, after the plugin's own `start`, with the started
   * kernel (services built). What it starts lives in `register`'s closure, one per kernel.
   */
  onStart(fn: (kernel: Kernel) => void | Promise<void>): void;
  /** Run when the kernel closes, in reverse start order. */
  onStop(fn: () => void | Promise<void>): void;
}

/** A Slipway plugin. */
export interface Plugin<Options = Record<string, unknown>> {
  /** Unique name, usually the npm package name. Every tap carries it. */
  name: string;
  /** semver range of kernel versions this plugin works with, e.g. `^0.1.0`. */
  kernel?: string;
  /** Services that must be provided (by any plugin) when the kernel starts. */
  needs?: readonly ServiceRef<unknown>[];
  /** JSON Schema of the options; validated (defaults applied) before `register`/`apply`. */
  optionsSchema?: object;
  /** Declare buildpacks, add-ons, taps and service factories. Pure: no I/O, no servers. */
  register?(reg: PluginRegistrar, options: Options): void;
  /** Side effects, once every service is built (`kernel.start()`); a throw stops the start. */
  start?(ctx: PluginContext<Options>): void | Promise<void>;
  /** Undo `start` (kernel.close(), reverse order). */
  stop?(ctx: PluginContext<Options>): void | Promise<void>;
  /**
   * The one-phase shape (compatibility): taps and registers at once, may start servers. Prefer
   * `register` + `start`: an `apply` plugin cannot be replayed without its side effects.
   */
  apply?(kernel: Kernel, options: Options): void | Promise<void>;
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

/** An API route group a plugin brings (see `PluginRegistrar.apiRoutes`). */
export interface ApiRouteGroupEntry {
  /** The group's name, unique: its OpenAPI tag (`drains`). */
  name: string;
  /** Where its routes live, e.g. `/apps/:app/log-drains`; `''` for a group spanning paths. */
  prefix: string;
  /** Declare the routes on what the platform hands over (the runtime's route registrar). */
  routes(api: unknown): void;
  plugin: string;
}

/** Tables a plugin owns (see `PluginRegistrar.migrations`). */
export interface TableMigrationsEntry {
  /** Where the applied steps are recorded (`drains_migrations`). */
  family: string;
  steps: readonly string[];
  plugin: string;
}

/** What plugins have added; only ever added to (a catalogue, not a control surface). */
export interface Catalog {
  readonly buildpacks: Map<string, BuildpackEntry>;
  readonly addons: Map<string, AddonEntry>;
  /** API route groups, by name. */
  readonly apiRoutes: Map<string, ApiRouteGroupEntry>;
  /** Owned tables, by family. */
  readonly migrations: Map<string, TableMigrationsEntry>;
}
