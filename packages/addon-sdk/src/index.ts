/**
 * @slipway/addon-sdk: write Slipway add-on providers, in-process or as remote services speaking
 * the Heroku add-on partner API; consume remote providers and Open Service Brokers; check them
 * with the conformance kit.
 */

// The core types a provider author needs, so a provider depends on this package alone.
export {
  type AddonActionEntry,
  type AddonActionRequest,
  type AddonActionTarget,
  type AddonEntry,
  type AddonPlanEntry,
  attachmentName,
  configPrefix,
  type DeprovisionRequest,
  defineErrors,
  freePort,
  isSlipwayError,
  Kernel,
  lookupUser,
  type OsUser,
  type PlanChangeRequest,
  type Plugin,
  type ProvisionRequest,
  type ProvisionResult,
  SlipwayError,
} from '@slipway/core';
export type { AddonActionDefinition, ProviderActionRequest } from './actions.js';
export { AddonHost, type AddonHostOptions, defaultPlatformDataDir } from './addon-host.js';
export { CallbackListener, type CallbackOptions } from './callback-listener.js';
export {
  attachConfig,
  attachedVarName,
  checkResult,
  configValueProblem,
} from './config-vars.js';
export {
  type ConformanceCheck,
  type ConformanceOptions,
  type ConformanceReport,
  type ConformanceTarget,
  conformanceCheckNames,
  describeConformance,
  type RemoteTarget,
  runConformance,
} from './conformance.js';
export {
  type AddonPlugin,
  type AddonPluginOptions,
  appResult,
  defineAddon,
  isAddonPlugin,
} from './define-addon.js';
export { type AddonDefinition, manifestOf, type ProviderContext } from './definition.js';
export { addonErrors } from './errors.js';
export { type StopLeftoverOptions, stopLeftover } from './leftover.js';
export { type LoadTargetOptions, loadConformanceTarget } from './load-target.js';
export {
  type AddonManifest,
  type AddonPlan,
  addonManifestSchema,
  askedConfigVars,
  defaultPlan,
  herokuManifest,
  type ManifestProblem,
  manifestProblems,
  type OptionalConfigVar,
  optionAsked,
  optionalConfigVars,
  resolvePlan,
  validateManifest,
} from './manifest.js';
export { connectHost, portIsFree } from './net.js';
export {
  credentialsToConfig,
  type OsbBrokerOptions,
  type OsbBrokerPlugin,
  type OsbPlan,
  type OsbService,
  osbBroker,
} from './osb-broker.js';
export {
  createRedactingLog,
  generateSecret,
  type LogLevel,
  type LogWriter,
  type ProviderLog,
  Redactor,
  stderrWriter,
} from './redact.js';
export { type RemoteAddonOptions, type RemoteAddonPlugin, remoteAddon } from './remote-addon.js';
export type { ResourceRecord } from './resource-store.js';
export {
  type Unprivileged,
  type UnprivilegedOptions,
  unprivileged,
} from './run-as.js';
export { type ScaffoldAddonOptions, type ScaffoldAddonResult, scaffoldAddon } from './scaffold.js';
export { type AddonServer, type ServeAddonOptions, serveAddon } from './serve-addon.js';
export { type Supervised, type SuperviseOptions, supervise, tcpReady } from './supervise.js';
export { selfSignedCertificate } from './tls.js';
