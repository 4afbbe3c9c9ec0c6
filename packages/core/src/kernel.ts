/**
 * The Kernel: one tsyringe child container, one frozen hook map and a catalogue of what plugins
 * registered. `use` validates a plugin and runs its pure `register` (or, for the one-phase
 * shape, `apply`); `start()` checks every plugin's `needs`, builds the service factories in
 * dependency order and runs the plugins' `start`s; `close()` undoes it all in reverse. A start
 * that fails part-way closes what it had started before it throws. Every tap is wrapped so that
 * an error names the plugin and the hook.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { type DependencyContainer, container as rootContainer } from 'tsyringe';
import { coreErrors, SlipwayError, wrapPluginError } from './errors.js';
import { createKernelHooks, type KernelHooks } from './hooks.js';
import type { Catalog, Plugin, PluginContext, PluginRegistrar } from './plugin.js';
import { createRegistrar } from './registrar.js';
import { checkSchema } from './schema.js';
import { buildOrder, chooseFactories, type DeclaredFactory } from './service-graph.js';
import { clockRef, type ServiceRef, systemClock } from './services.js';

/** Version of this kernel; plugins declare a semver range against it. */
export const KERNEL_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

/** Where a plugin entry came from, for error messages. */
export interface PluginSource {
  /** Config file that listed it. */
  file?: string;
  /**
   * An optional plugin (a platform default): when its start fails, the error is reported here,
   * its stop runs, and the kernel starts without it instead of failing.
   */
  onStartFailed?: (error: SlipwayError) => void;
}

interface TapInfo {
  type: 'sync' | 'async' | 'promise';
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: tapable's own tap signature, which the interceptors wrap as is
  fn: (...args: any[]) => any;
}

interface Interceptable {
  intercept(i: { register?: (t: TapInfo) => TapInfo }): void;
}

/** Make every tap of `hook` rethrow its errors wrapped with the tap's (plugin) name. */
function wrapTaps(hook: Interceptable, hookName: string): void {
  hook.intercept({
    register(tap) {
      const { fn, name } = tap;
      if (tap.type === 'sync') {
        tap.fn = (...args) => {
          try {
            return fn(...args);
          } catch (e) {
            throw wrapPluginError(e, name, hookName);
          }
        };
      } else if (tap.type === 'promise') {
        tap.fn = async (...args) => {
          try {
            return await fn(...args);
          } catch (e) {
            throw wrapPluginError(e, name, hookName);
          }
        };
      } else {
        tap.fn = (...args) => {
          const cb = args.pop() as (err?: unknown, res?: unknown) => void;
          try {
            fn(...args, (err: unknown, res: unknown) =>
              cb(err ? wrapPluginError(err, name, hookName) : err, res),
            );
          } catch (e) {
            cb(wrapPluginError(e, name, hookName));
          }
        };
      }
      return tap;
    },
  });
}

/** The Slipway kernel. */
export class Kernel {
  /** Kernel version (same as KERNEL_VERSION). */
  static readonly version = KERNEL_VERSION;
  /** All hook points; see hooks.ts for each one's contract. */
  readonly hooks: KernelHooks;
  /** This kernel's DI container (a child of tsyringe's root, so kernels never share state). */
  readonly container: DependencyContainer;
  /** Buildpacks and add-on services that plugins registered. */
  readonly catalog: Catalog = {
    buildpacks: new Map(),
    addons: new Map(),
    apiRoutes: new Map(),
    migrations: new Map(),
  };
  private readonly applied: Applied[] = [];
  private readonly factories: DeclaredFactory[] = [];
  private readonly built: { d: DeclaredFactory; value: unknown }[] = [];
  private sealed = false;
  private starting: Promise<void> | undefined;
  private started = false;

  constructor() {
    this.container = rootContainer.createChildContainer();
    this.hooks = createKernelHooks();
    for (const [name, hook] of Object.entries(this.hooks)) {
      if ('for' in hook) {
        (
          hook as unknown as {
            intercept(i: { factory: (k: string, h: Interceptable) => Interceptable }): void;
          }
        ).intercept({
          factory: (key, h) => {
            wrapTaps(h, `${name}(${key})`);
            return h;
          },
        });
      } else {
        wrapTaps(hook as unknown as Interceptable, name);
      }
    }
    // Registered after wrapTaps, so it sees the already-wrapped (plugin-named) error.
    (this.hooks.shutdown as unknown as Interceptable).intercept({
      register: (tap) => {
        const { fn, type } = tap;
        tap.fn = async (...args) => {
          try {
            if (type === 'async')
              await new Promise<void>((res, rej) => fn(...args, (err: unknown) => (err ? rej(err) : res())));
            else await fn(...args);
          } catch (e) {
            this.shutdownErrors.push(e);
          }
        };
        tap.type = 'promise';
        return tap;
      },
    });
    this.provide(clockRef, systemClock);
  }

  /** Names of the applied plugins, in order. */
  get plugins(): readonly string[] {
    return this.applied.map((p) => p.plugin.name);
  }

  /**
   * Validate a plugin (its shape, kernel range, uniqueness and options against its schema, with
   * defaults filled in and every problem listed), then run its `register` (or `apply`). After
   * `start()`, a plugin without service factories may still be added: its `start` runs at once.
   * Throws a coded error naming the plugin and the fix.
   */
  async use<O>(plugin: Plugin<O>, options?: O, source: PluginSource = {}): Promise<this> {
    if (this.sealed || this.closing)
      throw coreErrors.SLIPWAY_ERR_KERNEL_SEALED({ action: `add plugin ${plugin?.name}` });
    const label = typeof plugin?.name === 'string' && plugin.name ? plugin.name : '(unnamed)';
    if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string' || !plugin.name)
      throw coreErrors.SLIPWAY_ERR_PLUGIN_INVALID({ plugin: label, detail: 'it has no "name" string' });
    if (typeof plugin.register !== 'function' && typeof plugin.apply !== 'function')
      throw coreErrors.SLIPWAY_ERR_PLUGIN_INVALID({
        plugin: label,
        detail: 'it has neither register(reg, options) nor apply(kernel, options)',
      });
    if (this.applied.some((p) => p.plugin.name === plugin.name))
      throw coreErrors.SLIPWAY_ERR_PLUGIN_DUPLICATE({ plugin: plugin.name });
    if (plugin.kernel !== undefined) {
      if (!semver.validRange(plugin.kernel))
        throw coreErrors.SLIPWAY_ERR_PLUGIN_INVALID({
          plugin: plugin.name,
          detail: `its kernel range "${plugin.kernel}" is not a semver range`,
        });
      if (!semver.satisfies(KERNEL_VERSION, plugin.kernel, { includePrerelease: true }))
        throw coreErrors.SLIPWAY_ERR_PLUGIN_KERNEL_RANGE({
          plugin: plugin.name,
          range: plugin.kernel,
          version: KERNEL_VERSION,
        });
    }
    const opts = (options ?? {}) as O;
    if (plugin.optionsSchema) {
      const problems = checkSchema(plugin.optionsSchema, opts);
      if (problems.length)
        throw coreErrors.SLIPWAY_ERR_PLUGIN_OPTIONS({
          plugin: plugin.name,
          problems: problems.map((p) => `option ${p.field} ${p.detail}`).join('; '),
          fields: problems.map((p) => `"${p.field}"`).join(', '),
          file: source.file ?? 'the code that registers it',
        });
    }
    const entry: Applied = {
      plugin: plugin as Plugin<unknown>,
      options: opts,
      starts: [],
      stops: [],
      ...(source.onStartFailed ? { onStartFailed: source.onStartFailed } : {}),
    };
    const ctx: PluginContext<O> = { kernel: this, options: opts };
    if (plugin.start) entry.starts.push(() => plugin.start?.(ctx));
    if (plugin.stop) entry.stops.push(() => plugin.stop?.(ctx));
    const factories: DeclaredFactory[] = [];
    try {
      if (plugin.register) plugin.register(this.registrar(plugin.name, entry, factories), opts);
      else await plugin.apply?.(this, opts);
    } catch (e) {
      throw wrapPluginError(e, plugin.name, plugin.register ? 'register' : 'apply');
    }
    if (factories.length && this.starting)
      throw coreErrors.SLIPWAY_ERR_KERNEL_SEALED({ action: `add the services of plugin ${plugin.name}` });
    this.factories.push(...factories);
    this.applied.push(entry);
    if (this.starting) {
      await this.starting;
      await this.startOne(entry);
    }
    return this;
  }

  /** The registrar one plugin's `register` gets; what it declares is kept under its name. */
  private registrar(name: string, entry: Applied, factories: DeclaredFactory[]): PluginRegistrar {
    return createRegistrar(name, this, {
      factory: (factory) => factories.push({ plugin: name, factory }),
      onStart: (fn) => entry.starts.push(fn),
      onStop: (fn) => entry.stops.push(fn),
    });
  }

  /**
   * Check every plugin's `needs` and every factory's `deps`, build the services in dependency
   * order, then run each plugin's `start` in order. A failure closes what was started and
   * throws a coded error naming the plugin (and the ref). Idempotent.
   */
  start(): Promise<this> {
    this.starting ??= this.startAll();
    return this.starting.then(() => this);
  }

  private async startAll(): Promise<void> {
    if (this.closing) throw coreErrors.SLIPWAY_ERR_KERNEL_SEALED({ action: 'start a closed kernel' });
    const chosen = chooseFactories(this.factories);
    const order = buildOrder(chosen, (ref) => this.has(ref));
    this.checkNeeds((ref) => chosen.has(ref.token));
    try {
      for (const d of order) {
        const { ref, deps = [] } = d.factory;
        const allowed = new Set(deps.map((r) => r.token));
        let value: unknown;
        try {
          value = await d.factory.factory({
            kernel: this,
            get: <T>(dep: ServiceRef<T>): T => {
              if (!allowed.has(dep.token))
                throw new Error(`the factory of ${ref.id} uses ${dep.id} without declaring it in deps`);
              return this.resolve(dep);
            },
          });
        } catch (e) {
          throw wrapPluginError(e, d.plugin, `service ${ref.id}`);
        }
        this.provide(ref, value);
        this.built.push({ d, value });
      }
      for (const entry of this.applied) await this.startOne(entry);
      this.started = true;
    } catch (e) {
      await this.close().catch(() => {});
      throw e;
    }
  }

  private async startOne(entry: Applied): Promise<void> {
    entry.started = true;
    try {
      for (const fn of entry.starts) await fn();
    } catch (e) {
      const error = wrapPluginError(e, entry.plugin.name, 'start');
      if (!entry.onStartFailed) throw error;
      // An optional plugin: undo what it half-started, report it, go on without it.
      entry.started = false;
      for (const fn of [...entry.stops].reverse())
        await Promise.resolve()
          .then(fn)
          .catch(() => {});
      // Its buildpacks and add-ons are not offered: nothing would answer for them.
      for (const map of [this.catalog.buildpacks, this.catalog.addons, this.catalog.apiRoutes] as Map<
        string,
        { plugin: string }
      >[])
        for (const [key, e] of map) if (e.plugin === entry.plugin.name) map.delete(key);
      entry.onStartFailed(error);
    }
  }

  /** True once `start()` has finished. */
  get isStarted(): boolean {
    return this.started;
  }

  /** Register (or replace) the implementation of a service. */
  provide<T>(ref: ServiceRef<T>, value: T): this {
    this.container.register(ref.token, { useValue: value });
    return this;
  }

  /** True when a service is registered. */
  has(ref: ServiceRef<unknown>): boolean {
    return this.container.isRegistered(ref.token, true);
  }

  /** The service, or a coded error that says which kind of plugin provides it. */
  resolve<T>(ref: ServiceRef<T>): T {
    if (!this.has(ref)) throw coreErrors.SLIPWAY_ERR_SERVICE_MISSING({ service: ref.id, neededBy: '' });
    return this.container.resolve<T>(ref.token);
  }

  /** The service, or undefined. */
  tryResolve<T>(ref: ServiceRef<T>): T | undefined {
    return this.has(ref) ? this.container.resolve<T>(ref.token) : undefined;
  }

  /**
   * Stop the platform: each started plugin's `stop` (reverse order), every `shutdown` tap (each
   * even if another fails), then each built service's `dispose` (reverse build order); throws
   * the first error afterwards. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }
  private closing: Promise<void> | undefined;
  private readonly shutdownErrors: unknown[] = [];

  private async closeAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const entry of [...this.applied].reverse()) {
      if (!entry.started) continue;
      for (const fn of [...entry.stops].reverse())
        await Promise.resolve()
          .then(fn)
          .catch((e) => errors.push(wrapPluginError(e, entry.plugin.name, 'stop')));
    }
    await this.hooks.shutdown.promise();
    errors.push(...this.shutdownErrors);
    for (const { d, value } of [...this.built].reverse())
      await Promise.resolve()
        .then(() => d.factory.dispose?.(value))
        .catch((e) => errors.push(wrapPluginError(e, d.plugin, `dispose ${d.factory.ref.id}`)));
    if (errors.length) throw errors[0];
  }

  private checkNeeds(willBuild: (ref: ServiceRef<unknown>) => boolean): void {
    for (const p of this.applied)
      for (const ref of p.plugin.needs ?? [])
        if (!this.has(ref) && !willBuild(ref))
          throw coreErrors.SLIPWAY_ERR_SERVICE_MISSING({
            service: ref.id,
            neededBy: ` (plugin ${p.plugin.name} needs it)`,
          });
  }

  /** Check every plugin's `needs` (provided or to be built), then refuse further plugins. Idempotent. */
  ready(): this {
    if (this.sealed) return this;
    const chosen = chooseFactories(this.factories);
    this.checkNeeds((ref) => chosen.has(ref.token));
    this.sealed = true;
    return this;
  }
}

/** A plugin the kernel took, with its start and stop steps. */
interface Applied {
  plugin: Plugin<unknown>;
  options: unknown;
  starts: (() => unknown)[];
  stops: (() => unknown)[];
  started?: boolean;
  onStartFailed?: (error: SlipwayError) => void;
}

export { SlipwayError };
