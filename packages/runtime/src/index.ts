// Dynos and logs (issue 4).
export { DynoManager, type DynoManagerOptions, type DynoTarget, type ExitInfo } from './dynos/dyno-manager.js';
export { LocalDynoRuntime, type LocalDynoRuntimeOptions, freePort } from './dynos/local-runtime.js';
export { type BackoffPolicy, herokuBackoff, backoffDelay, DYNO_SIZES as DYNO_SIZE_MEMORY, resolveSize } from './dynos/policy.js';
export { type MemoryMechanism, detectMemoryMechanism } from './dynos/memory.js';
export { dynoErrors } from './dynos/errors.js';
export {
  LogHub,
  type LogHubOptions,
  type LogFilter,
  type RecentOptions,
  type LogListener,
  formatLogLine,
  formatLogTime,
  splitMessage,
  matchesFilter,
  MAX_LINE_BYTES,
} from './logs/log-hub.js';
