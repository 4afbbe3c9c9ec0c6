/** @slipway/router: the Heroku-style HTTP router (routing, headers, H-codes, WebSockets). */

export {
  ACME_CHALLENGE_PREFIX,
  ACME_CHALLENGE_STAGE,
  type AcmeChallengePluginOptions,
  type AcmeChallenges,
  acmeChallengePlugin,
} from './acme-challenge-plugin.js';
export { routerErrors } from './errors.js';
export { H_CODES, type HCode, type HCodeName, renderError, wantsJson } from './h-codes.js';
export { type RouteListing, stateCode } from './haproxy/control-plane.js';
export {
  createHaproxyRouter,
  findHaproxy,
  type HaproxyRouter,
  type HaproxyRouterOptions,
} from './haproxy/haproxy-router.js';
export { normalizeHost } from './host.js';
export {
  HTTPS_POLICY_STAGE,
  type HttpsPolicy,
  type HttpsPolicyPluginOptions,
  type HttpsPolicySource,
  httpsPolicyPlugin,
} from './https-policy-plugin.js';
export { DEFAULT_LIMITS, DEFAULT_TIMEOUTS, type RouterLimits, type RouterTimeouts } from './limits.js';
export { formatRequestLine, type RequestRecord } from './log-line.js';
export {
  MAINTENANCE_STAGE,
  type MaintenancePluginOptions,
  type MaintenanceState,
  maintenancePlugin,
} from './maintenance-plugin.js';
export { applyRouteRules, cookieValue, ruleMatches, usableRules } from './route-rules.js';
export type { AppRoute, RouteTable, RouteTarget } from './route-table.js';
export { createRouter, type Router, type RouterOptions } from './router.js';
export type { BalanceStrategy } from './target-pool.js';
export {
  type CertificateFiles,
  type CertificatePem,
  CertificateStore,
  type RouterTlsOptions,
} from './tls-certificates.js';
