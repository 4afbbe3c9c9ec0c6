/**
 * Policies of the dyno manager that platform builders tune: crash back-off and dyno sizes.
 */
import type { DynoSize } from '@slipway/core';
import { dynoErrors } from './errors.js';

/** When a crashed dyno is restarted: `immediate` restarts at once, then a growing cool-off. */
export interface BackoffPolicy {
  /** Restarts that happen at once after consecutive crashes (Heroku: 2). */
  immediate: number;
  /** Cool-off after the immediate restarts are used up (Heroku: 10 min). */
  firstMs: number;
  /** Each further crash multiplies the cool-off (Heroku: 2). */
  factor: number;
  /** Cap of the cool-off (our choice: 320 min, i.e. five doublings). */
  maxMs: number;
  /**
   * A dyno that stayed up this long has recovered: its crash count starts again (our choice,
   * as Kubernetes does: 10 min). A new release always resets it.
   */
  resetAfterMs: number;
  /** Restart delay after an exit that does not count as a crash (see `countsAsCrash`); 1 s. */
  outsideKillDelayMs: number;
}

/**
 * Signals that end a process from outside: an operator's `kill`, another process of the same
 * uid, a terminal. A dyno that dies of one of them did not crash (a segfault, an abort, a
 * broken pipe or an exit code did come from the dyno itself).
 */
const OUTSIDE_SIGNALS = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']);
const OUTSIDE_STATUSES = new Set([137, 143, 130, 129, 131, 138, 140]); // 128 + the signals above

/**
 * Whether an unexpected exit counts as the dyno's own crash for the back-off. Heroku counts
 * every exit, because on Heroku nothing but the dyno and the platform can end it; here a
 * process of the same uid, or an operator, can, and one app must not be able to put another in
 * a cool-off by killing it. So an exit by an outside signal (or the shell's 128+n for one) does
 * not count, unless the platform itself killed the dyno for its own fault (R15 memory).
 * An app can exit that way on purpose; it then restarts after `outsideKillDelayMs` each time,
 * which costs no one but itself.
 */
export function countsAsCrash(
  signal: NodeJS.Signals | null,
  status: number | undefined,
  reason: 'stop-timeout' | 'memory' | undefined,
): boolean {
  if (reason === 'memory') return true;
  if (signal !== null) return !OUTSIDE_SIGNALS.has(signal);
  return status === undefined || !OUTSIDE_STATUSES.has(status);
}

/** Heroku's schedule: twice at once, then 10, 20, 40 … minutes. */
export const herokuBackoff: BackoffPolicy = Object.freeze({
  immediate: 2,
  firstMs: 10 * 60_000,
  factor: 2,
  maxMs: 320 * 60_000,
  resetAfterMs: 10 * 60_000,
  outsideKillDelayMs: 1000,
});

/** Delay before restarting after the `crashes`-th consecutive crash (1-based). */
export function backoffDelay(policy: BackoffPolicy, crashes: number): number {
  if (crashes <= policy.immediate) return 0;
  return Math.min(policy.firstMs * policy.factor ** (crashes - policy.immediate - 1), policy.maxMs);
}

/** Memory quota (MB) of Heroku's dyno sizes; R14 above it, R15 (killed) at twice it. */
export const DYNO_SIZES: Readonly<Record<string, number>> = Object.freeze({
  eco: 512,
  basic: 512,
  free: 512,
  hobby: 512,
  standard: 512,
  'standard-1x': 512,
  'standard-2x': 1024,
  'performance-m': 2560,
  'performance-l': 14336,
  'performance-l-ram': 30720,
  'performance-xl': 63488,
  'performance-2xl': 129024,
});

/** Resolve a size name (case-insensitive) against the known sizes, or throw SLIPWAY_ERR_DYNO_SIZE. */
export function resolveSize(name: string, sizes: Readonly<Record<string, number>> = DYNO_SIZES): DynoSize {
  const key = name.toLowerCase();
  const memoryMb = sizes[key] ?? sizes[name];
  if (memoryMb === undefined)
    throw dynoErrors.SLIPWAY_ERR_DYNO_SIZE({ size: name, known: Object.keys(sizes).join(', ') });
  return { name: key, memoryMb };
}
