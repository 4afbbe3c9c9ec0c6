/** @slipway/core: the kernel, its hooks and services, the build pipeline, parsers and errors. */
export { Kernel, KERNEL_VERSION, type PluginSource } from './kernel.js';
export {
  definePlugin,
  type Plugin,
  type Catalog,
  type BuildpackEntry,
  type AddonEntry,
  type AddonPlanEntry,
} from './plugin.js';
export * from './hooks.js';
export * from './services.js';
export * from './errors.js';
export * from './build-log.js';
export type { AppJson } from './app-json.js';
export type * from './build/types.js';
export { checkSchema, ajv, type SchemaProblem } from './schema.js';
