// Dynos and logs (issue 4).

export { freePort, LineSplitter, splitLines } from '@slipway/core';
// Accounts, per-app access, the audit log and the dashboard (issue 18).
export {
  AccessGate,
  type AccessGateOptions,
  OWNER_ROUTES,
  PUBLIC_ROUTES,
  SESSION_COOKIE,
  USER_ROUTES,
} from './accounts/access-gate.js';
export type { AuditRecord as ApiAuditEvent } from './accounts/account-store.js';
export {
  type AccessRecord,
  AccountStore,
  type AuditRecord,
  type TokenRecord,
  type UserRecord,
} from './accounts/account-store.js';
export { DASHBOARD_CSP } from './accounts/dashboard-static.js';
export { accountErrors } from './accounts/errors.js';
export { DEFAULT_OWNER_EMAIL } from './accounts/owner.js';
export { hashPassword, verifyPassword } from './accounts/password.js';
export { currentPrincipal, type Principal } from './accounts/principal.js';
export type {
  ApiAccount,
  ApiCollaborator,
  ApiLogin,
  ApiNewToken,
  ApiNewUser,
  ApiToken,
  ApiUser,
} from './accounts/routes-accounts.js';
export { AddonService } from './addon-service.js';
// State, releases, API and the platform process (issue 4).
export {
  type ProviderInput,
  ProviderRegistry,
  type ProviderView,
} from './addons/provider-registry.js';
export type {
  ApiAddon,
  ApiApp,
  ApiBuild,
  ApiConfigVars,
  ApiDyno,
  ApiFormation,
  ApiLogSession,
  ApiRelease,
} from './api/response-schemas.js';
export {
  type RouteGroup,
  type RouteGroupApi,
  routeGroup,
  type UpgradeHandler,
  type WorkflowOptions,
} from './api/route-groups.js';
export { type ApiContext, apiRoutes, createApiServer } from './api/server.js';
export { type BuildOutput, runBuildInWorker, type WarmOptions } from './build-runner.js';
export { BuildWorkerPool, type BuildWorkerPoolOptions } from './build-worker-pool.js';
// HTTPS: certificates (uploaded and ACME), per-app redirect and HSTS (issue 16).
export {
  type AcmeDomainStatus,
  type AcmeOptions,
  AcmeService,
  LETS_ENCRYPT_DIRECTORY,
} from './certs/acme-service.js';
export { type CheckedCertificate, checkCertificate } from './certs/cert-check.js';
export { CertService } from './certs/cert-service.js';
export type { CertificateRecord, HttpsSettings } from './certs/cert-table.js';
export { certErrors } from './certs/errors.js';
export type { PlatformHttpsOptions } from './certs/https-wiring.js';
export { EXAMPLES_DIR, packDir, runDemo } from './demo.js';
export { DeployService, receiveUpload } from './deploy-service.js';
export type { ApiDomain } from './domains/schemas.js';
export { DRAINS_PLUGIN, drainsPlugin } from './drains/plugin.js';
export type { ApiDrain } from './drains/schemas.js';
// Stacks and the Docker dyno runtime (issue 13).
export { DockerDynoRuntime, type DockerDynoRuntimeOptions, DYNO_NETWORK } from './dynos/docker-runtime.js';
export {
  DynoManager,
  type DynoManagerOptions,
  type DynoTarget,
  type ExitInfo,
} from './dynos/dyno-manager.js';
export { dynoErrors } from './dynos/errors.js';
export { LocalDynoRuntime, type LocalDynoRuntimeOptions } from './dynos/local-runtime.js';
export { detectMemoryMechanism, type MemoryMechanism } from './dynos/memory.js';
export {
  BUILD_PIDS_LIMIT,
  detectPidsMechanism,
  PidsCgroup,
  type PidsMechanism,
  pidsLimitFor,
} from './dynos/pids.js';
export {
  type BackoffPolicy,
  backoffDelay,
  countsAsCrash,
  DYNO_SIZES as DYNO_SIZE_MEMORY,
  herokuBackoff,
  resolveSize,
} from './dynos/policy.js';
export { createDynoRuntime, RUNTIME_NAMES, type RuntimeName } from './dynos/runtime-choice.js';
export {
  listSwarmNodes,
  removeSwarmNode,
  type SwarmNodeInfo,
  setNodeAvailability,
} from './dynos/swarm-nodes.js';
export { runtimeErrors } from './errors.js';
export { FEATURE_PLUGINS } from './features.js';
// Tenant isolation (issue 11): per-app uids and dirs, the build environment.
export { AppDirs, defaultRuntimeDir, secureDataDir } from './isolation/app-dirs.js';
export { type AppUser, AppUsers, defaultUidBase } from './isolation/app-users.js';
export { BUILD_ENV_PASSTHROUGH, buildEnvironment } from './isolation/build-env.js';
export { LogBudget, type LogBudgetOptions } from './logs/log-budget.js';
export {
  formatLogLine,
  formatLogTime,
  type LogFilter,
  LogHub,
  type LogHubOptions,
  type LogListener,
  MAX_LINE_BYTES,
  matchesFilter,
  type RecentOptions,
  splitMessage,
} from './logs/log-hub.js';
export { maintenanceErrors } from './maintenance/errors.js';
export { maintenanceStateRef } from './maintenance/plugin.js';
export { type Platform, type PlatformOptions, startPlatform } from './platform.js';
export {
  builtinDynosPlugin,
  fsSlugsPlugin,
  logHubPlugin,
  logHubRef,
  PLATFORM_SERVICE_PLUGINS,
  PlatformChanges,
  type PlatformContext,
  platformContextRef,
  platformStateRef,
  sqliteStatePlugin,
} from './platform-services.js';
export { composeKernel, DEFAULT_ADDONS, DEFAULT_BUILDPACKS, type KernelRecipe } from './plugins.js';
export {
  DEFAULT_SIZE,
  type DynoManagerPort,
  type FormationUpdate,
  MAX_QUANTITY,
  ReleaseService,
} from './release-service.js';
export {
  BuildSandbox,
  type BuildSandboxOptions,
  openStackBuilds,
  type StackBuilds,
} from './sandbox/build-sandbox.js';
export { AppStacks, requireStack, type StackListing, stackBuilt } from './stack/app-stacks.js';
export { stackErrors } from './stack/errors.js';
export {
  aptMirror,
  type BuildStackOptions,
  type BuiltStack,
  buildStack,
  DEFAULT_STACK_CACHE,
  localEngine,
  stackCacheDir,
} from './stack/stack-builder.js';
export {
  BUILD_PACKAGES,
  DEFAULT_STACK,
  RUN_PACKAGES,
  STACKS,
  type StackRecipe,
  stackVariants,
} from './stack/stack-packages.js';
export { type DataDirLock, lockDataDir } from './state/data-dir-lock.js';
export { FsSlugStore } from './state/fs-slug-store.js';
export { type Migration, migrations } from './state/migrations.js';
export type * from './state/records.js';
export { APP_NAME, assertAppName, SqliteStateStore } from './state/sqlite-state-store.js';
