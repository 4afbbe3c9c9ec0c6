/**
 * Platform configuration: `slipway.config.json` (or `.js`, default-exporting the same shape)
 * lists plugins by package name or path, each with options. They add to the platform's default
 * plugins: `"disable": [specifier or name]` leaves defaults out, an entry naming a default (with
 * its options), or a plugin of the same name, takes its place, and `"defaults": false` keeps none
 * of the default packages (the built-in features stay). A specifier resolves from the config
 * file's directory, then from the platform's own install, so a config file anywhere
 * works. Everything is validated before any plugin runs; errors name the file, the field and
 * the fix.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { coreErrors, isSlipwayError } from './errors.js';
import { Kernel } from './kernel.js';
import type { Plugin } from './plugin.js';
import { checkSchema } from './schema.js';

/** One plugin entry: a specifier, `[specifier, options]`, `{ use, options }`, or (in .js) a Plugin. */
export type PluginEntry =
  | string
  | [string, Record<string, unknown>?]
  | { use: string; options?: Record<string, unknown> }
  | Plugin<unknown>
  | [Plugin<unknown>, Record<string, unknown>?];

/** The config file's shape. Unknown top-level keys are kept for the platform (`platform`). */
export interface SlipwayConfig {
  plugins: PluginEntry[];
  /**
   * `false`: the platform's default packages (buildpacks, add-ons) are not loaded, only `plugins`;
   * its built-in features stay (leave one out with `disable`). Default true.
   */
  defaults?: boolean;
  /** Default plugins to leave out, by specifier (`@slipway/addon-mail`) or name (`slipway-drains`). */
  disable?: string[];
  /** Settings for the runtime (ports, data dir, base domain…); the runtime validates them. */
  platform?: Record<string, unknown>;
}

/** JSON Schema of slipway.config.json. */
export const configSchema = {
  type: 'object',
  required: ['plugins'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    plugins: {
      type: 'array',
      items: {
        anyOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'array',
            minItems: 1,
            maxItems: 2,
            prefixItems: [
              { anyOf: [{ type: 'string', minLength: 1 }, { type: 'object' }] },
              { type: 'object' },
            ],
          },
          {
            type: 'object',
            required: ['use'],
            properties: { use: { type: 'string', minLength: 1 }, options: { type: 'object' } },
            additionalProperties: false,
          },
          {
            type: 'object',
            required: ['name'],
            anyOf: [{ required: ['register'] }, { required: ['apply'] }],
          },
        ],
      },
    },
    defaults: { type: 'boolean' },
    disable: { type: 'array', items: { type: 'string', minLength: 1 } },
    platform: { type: 'object' },
  },
} as const;

/** The config file names looked for, in order. */
export const CONFIG_FILES = ['slipway.config.json', 'slipway.config.js', 'slipway.config.mjs'];

/** Find the config file in `dir`, or undefined. */
export function findConfigFile(dir: string): string | undefined {
  for (const f of CONFIG_FILES) if (existsSync(path.join(dir, f))) return path.join(dir, f);
  return undefined;
}

/** Read and validate a config file. */
export async function loadConfig(file: string): Promise<SlipwayConfig> {
  let raw: unknown;
  if (file.endsWith('.json')) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw coreErrors.SLIPWAY_ERR_CONFIG_NOT_FOUND({ dir: path.dirname(file) }, { cause: e });
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw coreErrors.SLIPWAY_ERR_CONFIG_INVALID({
        file,
        field: '(file)',
        detail: `is not valid JSON: ${(e as Error).message}`,
      });
    }
  } else {
    try {
      const mod = await import(pathToFileURL(file).href);
      raw = mod.default ?? mod;
    } catch (e) {
      throw coreErrors.SLIPWAY_ERR_CONFIG_INVALID({
        file,
        field: '(file)',
        detail: `failed to load: ${(e as Error).message}`,
      });
    }
  }
  const [problem] = checkSchema(configSchema, raw);
  if (problem) throw coreErrors.SLIPWAY_ERR_CONFIG_INVALID({ file, ...problem });
  return raw as SlipwayConfig;
}

function isPlugin(x: unknown): x is Plugin<unknown> {
  return (
    !!x &&
    typeof x === 'object' &&
    (typeof (x as Plugin).register === 'function' || typeof (x as Plugin).apply === 'function')
  );
}

/**
 * Load a plugin module by package name (resolved from `fromDir`, as Node would) or by path
 * (`./x`, `/abs/x`). Its default export (or `plugin` export) must be a Plugin, or a function
 * returning one.
 */
export async function loadPlugin(specifier: string, fromDir: string): Promise<Plugin<unknown>> {
  const isPath = specifier.startsWith('.') || path.isAbsolute(specifier);
  let resolved: string;
  try {
    const req = createRequire(path.join(path.resolve(fromDir), 'noop.js'));
    resolved = req.resolve(isPath ? path.resolve(fromDir, specifier) : specifier);
  } catch (e) {
    throw coreErrors.SLIPWAY_ERR_PLUGIN_NOT_FOUND({
      plugin: specifier,
      from: fromDir,
      detail: (e as Error).message.split('\n')[0],
    });
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(path.isAbsolute(resolved) ? pathToFileURL(resolved).href : resolved);
  } catch (e) {
    throw coreErrors.SLIPWAY_ERR_PLUGIN_NOT_FOUND({
      plugin: specifier,
      from: fromDir,
      detail: (e as Error).message.split('\n')[0],
    });
  }
  let candidate = mod.default ?? mod.plugin;
  if (typeof candidate === 'function' && !isPlugin(candidate))
    candidate = await (candidate as () => unknown)();
  if (!isPlugin(candidate))
    throw coreErrors.SLIPWAY_ERR_PLUGIN_INVALID({
      plugin: specifier,
      detail:
        'its module does not export (default) an object with register(reg, options) or apply(kernel, options)',
    });
  return candidate;
}

/** Options for `createKernel`. */
export interface CreateKernelOptions {
  /** Directory to look for slipway.config.* in (default: process.cwd()) when no file is given. */
  cwd?: string;
  /** Config file to use; `false` to use none. */
  configFile?: string | false;
  /** The contents of `configFile` when the caller has read it already (`loadConfig`): not read again. */
  config?: SlipwayConfig;
  /** Plugins applied after the config's, e.g. the runtime's own. */
  plugins?: PluginEntry[];
  /**
   * Options a plugin gets unless its entry sets them (e.g. the platform's data dir for add-on
   * providers); merged under the entry's own options.
   */
  defaults?: (plugin: Plugin<unknown>) => Record<string, unknown> | undefined;
  /** Leave a loaded plugin out (e.g. add-on providers in a build worker). */
  skip?: (plugin: Plugin<unknown>) => boolean;
  /**
   * The platform's default plugins (specifiers, resolved from `resolveFrom`, or plugin objects,
   * known by their name), applied before the config's, which add to them (see the module comment).
   */
  defaultPlugins?: (string | Plugin<unknown>)[];
  /** Where specifiers resolve when the config file's directory has no such package: the platform's install. */
  resolveFrom?: string;
  /**
   * A default plugin that cannot be loaded, applied or started (`kernel.start()`) is reported
   * here and left out; absent = it throws.
   */
  onDefaultFailed?: (specifier: string, error: unknown) => void;
}

/** The specifier of a config entry, when it names one. */
function specifierOf(entry: PluginEntry): string | undefined {
  if (typeof entry === 'string') return entry;
  if (Array.isArray(entry)) return typeof entry[0] === 'string' ? entry[0] : undefined;
  return isPlugin(entry) ? undefined : entry.use;
}

/** `loadPlugin` from `fromDir`, then (a package name, not a path) from `fallback`. */
async function loadFrom(specifier: string, fromDir: string, fallback?: string): Promise<Plugin<unknown>> {
  try {
    return await loadPlugin(specifier, fromDir);
  } catch (e) {
    const isPath = specifier.startsWith('.') || path.isAbsolute(specifier);
    if (!fallback || isPath || !isSlipwayError(e, 'SLIPWAY_ERR_PLUGIN_NOT_FOUND')) throw e;
    return loadPlugin(specifier, fallback).catch(() => {
      throw e;
    });
  }
}

async function normalise(
  entry: PluginEntry,
  fromDir: string,
  fallback?: string,
): Promise<[Plugin<unknown>, Record<string, unknown> | undefined]> {
  const spec = specifierOf(entry);
  const options = Array.isArray(entry)
    ? entry[1]
    : typeof entry === 'object' && 'use' in entry
      ? entry.options
      : undefined;
  if (spec) return [await loadFrom(spec, fromDir, fallback), options];
  return [(Array.isArray(entry) ? entry[0] : entry) as Plugin<unknown>, options];
}

/** Build a Kernel from a config file and extra plugins, validating everything first. */
export async function createKernel(
  opts: CreateKernelOptions = {},
): Promise<{ kernel: Kernel; config: SlipwayConfig; file?: string }> {
  const cwd = opts.cwd ?? process.cwd();
  const file = opts.configFile === false ? undefined : (opts.configFile ?? findConfigFile(cwd));
  const config: SlipwayConfig = file ? (opts.config ?? (await loadConfig(file))) : { plugins: [] };
  const fromDir = file ? path.dirname(file) : cwd;
  const fallback = opts.resolveFrom;
  // Load every plugin module before applying any: a bad entry late in the list changes nothing.
  type Loaded = [Plugin<unknown>, Record<string, unknown> | undefined, string | undefined, string?];
  const loaded: Loaded[] = [];
  const listed = new Set(config.plugins.map(specifierOf));
  // A default object is named by its plugin name: `"disable": ["slipway-drains"]`.
  const specOfDefault = (d: string | Plugin<unknown>) => (typeof d === 'string' ? d : d.name);
  // `"defaults": false` drops the default packages; default objects (the platform's own
  // features) stay unless disabled by name.
  const defaults = (opts.defaultPlugins ?? []).filter(
    (d) =>
      !(config.defaults === false && typeof d === 'string') &&
      !listed.has(specOfDefault(d)) &&
      !config.disable?.includes(specOfDefault(d)),
  );
  for (const d of defaults) {
    const spec = specOfDefault(d);
    try {
      loaded.push([
        typeof d === 'string' ? await loadPlugin(d, fallback ?? cwd) : d,
        undefined,
        undefined,
        spec,
      ]);
    } catch (e) {
      if (!opts.onDefaultFailed) throw e;
      opts.onDefaultFailed(spec, e);
    }
  }
  for (const [i, entry] of config.plugins.entries()) {
    try {
      loaded.push([...(await normalise(entry, fromDir, fallback)), file]);
    } catch (e) {
      if (isSlipwayError(e) && file) e.message += ` (${path.basename(file)} plugins[${i}])`;
      throw e;
    }
  }
  for (const entry of opts.plugins ?? []) loaded.push([...(await normalise(entry, cwd)), undefined]);
  // A config entry that is a default by another specifier (a path to it) takes its place too.
  const named = new Set(loaded.filter((l) => !l[3]).map(([p]) => p.name));
  const kernel = new Kernel();
  for (const [plugin, options, from, defaultSpec] of loaded) {
    if (opts.skip?.(plugin) || (defaultSpec && named.has(plugin.name))) continue;
    const base = opts.defaults?.(plugin);
    try {
      // A default whose start fails is reported and left out too (`kernel.start()`).
      const onStartFailed =
        defaultSpec && opts.onDefaultFailed
          ? { onStartFailed: (e: unknown) => opts.onDefaultFailed?.(defaultSpec, e) }
          : {};
      await kernel.use(plugin, base ? { ...base, ...options } : options, {
        ...(from ? { file: from } : {}),
        ...onStartFailed,
      });
    } catch (e) {
      // A default that cannot start here (a toolchain or server it needs is missing) is reported.
      if (!defaultSpec || !opts.onDefaultFailed) throw e;
      opts.onDefaultFailed(defaultSpec, e);
    }
  }
  return { kernel, config, ...(file ? { file } : {}) };
}
