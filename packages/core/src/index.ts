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
export { parseProcfile, PROCESS_TYPE_PATTERN } from './procfile.js';
export {
  parseAppJson,
  appJsonSchema,
  type AppJsonEnv,
  type AppJsonAddon,
  type AppJsonHealthcheck,
} from './app-json.js';
export {
  assertConfigVarName,
  validateConfigVars,
  configVarsSize,
  parseConfigAssignments,
  CONFIG_VAR_NAME,
  CONFIG_VARS_MAX_BYTES,
} from './config-vars.js';
export {
  loadConfig,
  loadPlugin,
  createKernel,
  findConfigFile,
  configSchema,
  CONFIG_FILES,
  type SlipwayConfig,
  type PluginEntry,
  type CreateKernelOptions,
} from './config.js';
export { extractArchive, unsafeEntryReason, archiveErrors } from './archive.js';
export {
  runBuild,
  buildpackIdFor,
  slugMetadataPath,
  DEFAULT_STACK,
  DEFAULT_BUILD_TIMEOUT_MS,
  SLUG_WARN_BYTES,
  SLUG_MAX_BYTES,
} from './build/pipeline.js';
export { packSlug, formatBytes } from './build/slug.js';
export { applySlugignore, slugignoreMatcher } from './build/source.js';
