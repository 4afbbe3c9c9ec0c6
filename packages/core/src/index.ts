/** @slipway/core: the kernel, its hooks and services, the build pipeline, parsers and errors. */

export {
  ADDON_ACTION_NAME,
  type AddonActionEntry,
  type AddonActionRequest,
  type AddonActionTarget,
} from './addon-actions.js';
export { type AddonSpecMatch, defaultAddonPlan, matchAddonSpec } from './addon-alias.js';
export type { AppJson } from './app-json.js';
export {
  type AppJsonAddon,
  type AppJsonEnv,
  type AppJsonHealthcheck,
  appJsonSchema,
  parseAppJson,
} from './app-json.js';
export { archiveErrors, extractArchive, unsafeEntryReason } from './archive.js';
export {
  buildpackIdFor,
  DEFAULT_BUILD_TIMEOUT_MS,
  DEFAULT_STACK,
  runBuild,
  SLUG_MAX_BYTES,
  SLUG_WARN_BYTES,
  slugMetadataPath,
  stackInfo,
} from './build/pipeline.js';
export {
  type OfferedPlatformNode,
  offerPlatformNode,
  platformNodeMember,
  sharedNodeDir,
  sharedRuntimeStore,
} from './build/platform-node.js';
export {
  ARCHIVE_END,
  memberFile,
  packSharedMember,
  publishSharedMember,
  type SharedMember,
  sharedMembers,
  sharedTail,
  slugRest,
  splitSharedMember,
  unpackWithSharedTail,
} from './build/shared-members.js';
export { formatBytes, packSlug } from './build/slug.js';
export { applySlugignore, slugignoreMatcher } from './build/source.js';
export type * from './build/types.js';
export * from './build-log.js';
export {
  CONFIG_FILES,
  type CreateKernelOptions,
  configSchema,
  createKernel,
  findConfigFile,
  loadConfig,
  loadPlugin,
  type PluginEntry,
  type SlipwayConfig,
} from './config.js';
export {
  assertConfigVarName,
  attachmentName,
  CONFIG_VAR_NAME,
  CONFIG_VARS_MAX_BYTES,
  configPrefix,
  configVarsSize,
  parseConfigAssignments,
  validateConfigVars,
} from './config-vars.js';
export {
  dynoLauncher,
  freePort,
  lookupUser,
  type OsUser,
  SOURCE_PROFILE_D,
} from './dyno-contract.js';
export * from './errors.js';
export * from './hooks.js';
export { KERNEL_VERSION, Kernel, type PluginSource } from './kernel.js';
export { LineSplitter, MAX_LINE_BYTES, splitLines } from './line-splitter.js';
export {
  type AddonEntry,
  type AddonPlanEntry,
  type ApiRouteGroupEntry,
  type BuildpackEntry,
  type Catalog,
  definePlugin,
  type Plugin,
  type PluginContext,
  type PluginRegistrar,
  type ServiceFactory,
  type ServiceFactoryContext,
  type TableMigrationsEntry,
} from './plugin.js';
export { PROCESS_TYPE_PATTERN, parseProcfile } from './procfile.js';
export * from './route-rules.js';
export { ajv, checkSchema, type SchemaProblem } from './schema.js';
export * from './services.js';
