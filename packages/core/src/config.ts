/**
 * Platform configuration: `slipway.config.json` (or `.js`, default-exporting the same shape)
 * lists plugins by package name or path, each with options. Everything is validated before
 * any plugin runs; errors name the file, the field and the fix.
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
  | Plugin<any>
  | [Plugin<any>, Record<string, unknown>?];

/** The config file's shape. Unknown top-level keys are kept for the platform (`platform`). */
export interface SlipwayConfig {
  plugins: PluginEntry[];
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
          { type: 'object', required: ['name', 'apply'] },
        ],
      },
    },
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

function isPlugin(x: unknown): x is Plugin<any> {
  return !!x && typeof x === 'object' && typeof (x as Plugin).apply === 'function';
}

/**
 * Load a plugin module by package name (resolved from `fromDir`, as Node would) or by path
 * (`./x`, `/abs/x`). Its default export (or `plugin` export) must be a Plugin, or a function
 * returning one.
 */
export async function loadPlugin(specifier: string, fromDir: string): Promise<Plugin<any>> {
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
      detail: 'its module does not export (default) an object with apply(kernel, options)',
    });
  return candidate;
}

/** Options for `createKernel`. */
export interface CreateKernelOptions {
  /** Directory to look for slipway.config.* in (default: process.cwd()) when no file is given. */
  cwd?: string;
  /** Config file to use; `false` to use none. */
  configFile?: string | false;
  /** Plugins applied after the config's, e.g. the runtime's own. */
  plugins?: PluginEntry[];
  /**
   * Options a plugin gets unless its entry sets them (e.g. the platform's data dir for add-on
   * providers); merged under the entry's own options.
   */
  defaults?: (plugin: Plugin<any>) => Record<string, unknown> | undefined;
  /** Leave a loaded plugin out (e.g. add-on providers in a build worker). */
  skip?: (plugin: Plugin<any>) => boolean;
}

async function normalise(
  entry: PluginEntry,
  fromDir: string,
): Promise<[Plugin<any>, Record<string, unknown> | undefined]> {
  if (typeof entry === 'string') return [await loadPlugin(entry, fromDir), undefined];
  if (Array.isArray(entry)) {
    const [p, o] = entry;
    return [typeof p === 'string' ? await loadPlugin(p, fromDir) : p, o];
  }
  if (isPlugin(entry)) return [entry, undefined];
  return [await loadPlugin(entry.use, fromDir), entry.options];
}

/** Build a Kernel from a config file and extra plugins, validating everything first. */
export async function createKernel(
  opts: CreateKernelOptions = {},
): Promise<{ kernel: Kernel; config: SlipwayConfig; file?: string }> {
  const cwd = opts.cwd ?? process.cwd();
  const file = opts.configFile === false ? undefined : (opts.configFile ?? findConfigFile(cwd));
  const config: SlipwayConfig = file ? await loadConfig(file) : { plugins: [] };
  const fromDir = file ? path.dirname(file) : cwd;
  // Load every plugin module before applying any: a bad entry late in the list changes nothing.
  const loaded: [Plugin<any>, Record<string, unknown> | undefined, string | undefined][] = [];
  for (const [i, entry] of config.plugins.entries()) {
    try {
      loaded.push([...(await normalise(entry, fromDir)), file]);
    } catch (e) {
      if (isSlipwayError(e) && file) e.message += ` (${path.basename(file)} plugins[${i}])`;
      throw e;
    }
  }
  for (const entry of opts.plugins ?? []) loaded.push([...(await normalise(entry, cwd)), undefined]);
  const kernel = new Kernel();
  for (const [plugin, options, from] of loaded) {
    if (opts.skip?.(plugin)) continue;
    const defaults = opts.defaults?.(plugin);
    await kernel.use(plugin, defaults ? { ...defaults, ...options } : options, from ? { file: from } : {});
  }
  return { kernel, config, ...(file ? { file } : {}) };
}
