/**
 * The Kernel: one tsyringe child container, one frozen hook map and a catalogue of what plugins
 * registered. Plugins are applied in order; `ready()` then checks that every service some plugin
 * needs is provided. Every tap is wrapped so that an error names the plugin and the hook.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { type DependencyContainer, container as rootContainer } from 'tsyringe';
import { coreErrors, SlipwayError, wrapPluginError } from './errors.js';
import { createKernelHooks, type KernelHooks } from './hooks.js';
import type { Catalog, Plugin } from './plugin.js';
import { checkSchema } from './schema.js';
import { clockRef, type ServiceRef, systemClock } from './services.js';

/** Version of this kernel; plugins declare a semver range against it. */
export const KERNEL_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

/** Where a plugin entry came from, for error messages. */
export interface PluginSource {
  /** Config file that listed it. */
  file?: string;
}

interface TapInfo {
  type: 'sync' | 'async' | 'promise';
  name: string;
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
  readonly catalog: Catalog = { buildpacks: new Map(), addons: new Map() };
  private readonly applied: { name: string; needs: readonly ServiceRef<unknown>[] }[] = [];
  private sealed = false;

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
    return this.applied.map((p) => p.name);
  }

  /**
   * Validate and apply a plugin: its shape, kernel range, uniqueness and options (against its
   * schema, defaults filled in). Throws a coded error naming the plugin and the fix.
   */
  async use<O>(plugin: Plugin<O>, options?: O, source: PluginSource = {}): Promise<this> {
    if (this.sealed) throw coreErrors.SLIPWAY_ERR_KERNEL_SEALED({ action: `add plugin ${plugin?.name}` });
    const label = typeof plugin?.name === 'string' && plugin.name ? plugin.name : '(unnamed)';
    if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string' || !plugin.name)
      throw coreErrors.SLIPWAY_ERR_PLUGIN_INVALID({ plugin: label, detail: 'it has no "name" string' });
    if (typeof plugin.apply !== 'function')
      throw coreErrors.SLIPWAY_ERR_PLUGIN_INVALID({
        plugin: label,
        detail: 'it has no apply(kernel, options) function',
      });
    if (this.applied.some((p) => p.name === plugin.name))
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
      const [problem] = checkSchema(plugin.optionsSchema, opts);
      if (problem)
        throw coreErrors.SLIPWAY_ERR_PLUGIN_OPTIONS({
          plugin: plugin.name,
          field: problem.field,
          detail: problem.detail,
          file: source.file ?? 'the code that registers it',
        });
    }
    try {
      await plugin.apply(this, opts);
    } catch (e) {
      throw wrapPluginError(e, plugin.name, 'apply');
    }
    this.applied.push({ name: plugin.name, needs: plugin.needs ?? [] });
    return this;
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
   * Stop the platform's plugins: runs every `shutdown` tap (each even if another fails) and
   * throws the first error afterwards. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.hooks.shutdown.promise().then(() => {
      if (this.shutdownErrors.length) throw this.shutdownErrors[0];
    });
    return this.closing;
  }
  private closing: Promise<void> | undefined;
  private readonly shutdownErrors: unknown[] = [];

  /** Check every plugin's `needs`, then refuse further plugins. Idempotent. */
  ready(): this {
    if (this.sealed) return this;
    for (const p of this.applied)
      for (const ref of p.needs)
        if (!this.has(ref))
          throw coreErrors.SLIPWAY_ERR_SERVICE_MISSING({
            service: ref.id,
            neededBy: ` (plugin ${p.name} needs it)`,
          });
    this.sealed = true;
    return this;
  }
}

export { SlipwayError };
