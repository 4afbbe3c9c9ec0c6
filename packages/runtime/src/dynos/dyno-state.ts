/**
 * The dyno manager's bookkeeping: what an app should run, the dynos it started, formation
 * slots with their crash counts, and the router's view derived from them. Plain data and pure
 * helpers; the decisions live in dyno-manager.ts.
 */
import type { DynoHandle, DynoStatus, SlugRef } from '@slipway/core';
import type { AppRoute, RouteTarget } from '@slipway/router';

/** What an app should run: one release and its formation. */
export interface DynoTarget {
  release: number;
  slug: SlugRef;
  /** Config vars of the release (the manager adds `DYNO` and `PORT`). */
  env: Record<string, string>;
  processTypes: Record<string, string>;
  formation: Record<string, { quantity: number; size: string }>;
  /** app.json healthcheck of web dynos: GET path must answer 2xx before the switch. */
  healthcheck?: { path: string; timeoutMs?: number };
}

/** Dyno states, plus `complete` for a finished one-off. */
export type DynoState = DynoStatus['state'] | 'complete';

/** One dyno the manager started (a slot's current dyno, a retiring one, or a one-off). */
export interface ManagedDyno {
  app: string;
  name: string;
  type: string;
  index: number;
  release: number;
  handle: DynoHandle | undefined;
  state: DynoState;
  /** The manager asked it to stop: its exit is not a crash. */
  expected: boolean;
  /** Part of a release switch: its failure fails the switch, it is never restarted. */
  inBatch: boolean;
  oneOff: boolean;
  upAt: number;
  exited: boolean;
  lastR14: number;
  onExit: Promise<void>;
  resolveExit: () => void;
}

/** A (type, index) position of the formation and its restart bookkeeping. */
export interface Slot {
  type: string;
  index: number;
  dyno: ManagedDyno | undefined;
  crashes: number;
  timer: { cancel(): void } | undefined;
}

/** Everything the manager knows about one app. */
export interface AppState {
  name: string;
  target: DynoTarget | undefined;
  slots: Map<string, Slot>;
  retiring: Set<ManagedDyno>;
  oneOffs: Set<ManagedDyno>;
  /** Web targets the router uses: replaced as a whole, never mutated. */
  routed: readonly RouteTarget[];
  routeCache: AppRoute | undefined;
  /** Settled once every data plane serves the app's latest route (see `RouteTable.onChange`). */
  routeApplied: Promise<unknown>;
  chain: Promise<unknown>;
  /** Web dynos of a rollout being booted (not in a slot yet): the route says `booting`, not `no-release`. */
  bootingWeb: number;
}

/** A fresh, empty state for an app. */
export function newAppState(name: string): AppState {
  return {
    name,
    target: undefined,
    slots: new Map(),
    retiring: new Set(),
    oneOffs: new Set(),
    routed: [],
    routeCache: undefined,
    routeApplied: Promise.resolve(),
    chain: Promise.resolve(),
    bootingWeb: 0,
  };
}

/** A dyno record in state `starting`, not yet started. */
export function newDyno(
  app: string,
  type: string,
  index: number,
  release: number,
  inBatch: boolean,
): ManagedDyno {
  let resolveExit!: () => void;
  const onExit = new Promise<void>((r) => {
    resolveExit = r;
  });
  return {
    app,
    name: `${type}.${index}`,
    type,
    index,
    release,
    handle: undefined,
    state: 'starting',
    expected: false,
    inBatch,
    oneOff: false,
    upAt: 0,
    exited: false,
    lastR14: 0,
    onExit,
    resolveExit,
  };
}

/** The router's view of an app from its state. */
export function computeRoute(st: AppState): AppRoute {
  if (st.routed.length > 0) return { app: st.name, state: 'ok', targets: st.routed };
  if (st.bootingWeb > 0) return { app: st.name, state: 'booting', targets: [] };
  const t = st.target;
  if (!t) return { app: st.name, state: 'no-release', targets: [] };
  if (!t.processTypes.web || !(t.formation.web?.quantity ?? 0))
    return { app: st.name, state: 'no-web', targets: [] };
  const booting = [...st.slots.values()].some((s) => s.type === 'web' && s.dyno?.state === 'starting');
  return { app: st.name, state: booting ? 'booting' : 'crashed', targets: [] };
}

/** Extra exit facts a runtime may pass as the 4th `exit` argument (the local runtime does). */
export interface ExitInfo {
  status?: number;
  reason?: 'stop-timeout' | 'memory';
}

/** The route target of an up web dyno. */
export function toTarget(d: ManagedDyno): RouteTarget {
  return { dyno: d.name, host: d.handle?.host ?? '127.0.0.1', port: d.handle!.port! };
}

/** `0.4 seconds`, `60 seconds`: durations as Heroku's messages print them. */
export function fmtSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} second${s === 1 ? '' : 's'}`;
}
