/**
 * The kernel's hook points: the public contract between the kernel and every plugin.
 * The kind of each hook is its semantics: Bail = the first answer wins, Waterfall = a value
 * threaded through every tap, Series = everyone in turn, HookMap = a family keyed by id.
 * Names and argument shapes are public API: a breaking change gets a new hook.
 */
import {
  AsyncSeriesBailHook,
  AsyncSeriesHook,
  AsyncSeriesWaterfallHook,
  HookMap,
  SyncHook,
  SyncWaterfallHook,
} from 'tapable';
import type { AppJson } from './app-json.js';
import type { BuildLog } from './build-log.js';
import type { RouteRule, RouteRulesContext } from './route-rules.js';
import type { LogLine } from './services.js';

/** Ordering of `detect` taps (tapable `stage`); lower runs first. */
export const DetectStage = Object.freeze({
  /** Buildpacks that must win over language buildpacks (e.g. a Dockerfile or static-site one). */
  EARLY: -100,
  /** Language buildpacks: Node, Python, Java, Go. */
  LANGUAGE: 0,
  /** Catch-alls that claim anything left. */
  FALLBACK: 100,
});

/** What the platform says about the machine builds and dynos run on. */
export interface StackInfo {
  /** Value of `STACK`, e.g. `slipway-13`. */
  id: string;
  /** Human description, e.g. `Debian 12 (bookworm)`. */
  description: string;
  /**
   * Dynos see only the stack and the slug (a container runtime): a buildpack puts the language
   * runtime into the slug instead of pointing at the build machine's. Unset: the machine's own
   * runtimes are where the dynos run too (the local runtime lends them at the same paths).
   */
  runtimeInSlug?: boolean;
}

/** Passed to `detect`: the app source, after `.slugignore`, in its isolated build dir. */
export interface DetectContext {
  /** The build dir holding the app source. Read only during detect. */
  buildDir: string;
  /** Config vars of the app (as `ENV_DIR` holds them). */
  env: Readonly<Record<string, string>>;
  stack: StackInfo;
  /** The parsed app.json, when the app has one. */
  appJson: AppJson | undefined;
  /**
   * When set, only the buildpack with this id may answer (the app pinned its buildpacks and
   * the pipeline asks each in turn); every other tap must return undefined.
   */
  only: string | undefined;
  /**
   * Buildpacks that passed record why here (`reasons.set(id, 'no package.json')`), so a failed
   * detection can tell the user what each buildpack looked for.
   */
  reasons: Map<string, string>;
  log: BuildLog;
}

/** A positive detection: which buildpack claims the app and the name it shows. */
export interface Detection {
  /** Buildpack id, the key of its `compile` hook. */
  buildpack: string;
  /** Shown as `-----> {name} app detected`. */
  name: string;
}

/** A negative detection from a pinned buildpack; returned through `DetectContext`-aware APIs. */
export interface NotDetected {
  buildpack: string;
  detected: false;
  reason: string;
}

/** Passed to a buildpack's `compile` tap. */
export interface CompileContext {
  /** The buildpack being run (its id). */
  buildpack: string;
  /** The app; becomes the slug. Write into it. */
  buildDir: string;
  /** Per app and per buildpack; kept between builds. */
  cacheDir: string;
  /** Heroku's ENV_DIR: one file per config var. */
  envDir: string;
  /** The same config vars, already read. */
  env: Readonly<Record<string, string>>;
  /**
   * Variables exported by earlier buildpacks (their `export` files, already applied).
   * A buildpack adds its own with `exports` so later buildpacks see them.
   */
  exports: Record<string, string>;
  stack: StackInfo;
  appJson: AppJson | undefined;
  log: BuildLog;
  /** Aborted on build timeout or cancel: kill subprocesses when it fires. */
  signal: AbortSignal;
}

/** Threaded through `release`: what the release of this build will run and set. */
export interface ReleaseSpec {
  /** Default process types; the Procfile overrides them afterwards. */
  processTypes: Record<string, string>;
  /** Config vars set on the first release when the app has not set them. */
  configDefaults: Record<string, string>;
  /** Add-ons (`service:plan`) requested on the first deploy. */
  addons: string[];
}

/** Passed with `release`. The pipeline calls `release` once per compiled buildpack, in build order. */
export interface ReleaseContext {
  /** The buildpack whose turn it is; taps of other buildpacks return the spec unchanged. */
  buildpack: string;
  /** All buildpacks of this build, in order. */
  buildpacks: readonly string[];
  buildDir: string;
  env: Readonly<Record<string, string>>;
  stack: StackInfo;
  log: BuildLog;
}

/** Passed to the build lifecycle hooks. */
export interface BuildEvent {
  /** App name, or `local` for `slipway build`. */
  app: string;
  /** Build id. */
  id: string;
  /** The isolated build dir. */
  buildDir: string;
  log: BuildLog;
}

/** What a finished build produced (see the build pipeline). */
export interface BuildOutcome {
  buildpacks: Detection[];
  processTypes: Record<string, string>;
  slug?: { path: string; checksum: string; size: number };
}

/** Passed to `beforeRelease` / `afterRelease` by the runtime. */
export interface ReleaseEvent {
  app: string;
  /** Release number: v{version}. */
  version: number;
  description: string;
}

/** Passed to `dynoStart`. */
export interface DynoEvent {
  app: string;
  /** `web.1`, `run.4321` … */
  dyno: string;
  release: number;
}

/** Passed to `dynoExit`. */
export interface DynoExitEvent extends DynoEvent {
  code: number | null;
  signal: string | null;
  /** True when the manager stopped it (scale down, new release), false for a crash. */
  expected: boolean;
}

/** Request to create an add-on resource. */
export interface ProvisionRequest {
  /** Add-on service, e.g. `postgres`. */
  service: string;
  plan: string;
  /** Platform-generated resource id, stable across retries (Heroku's `uuid`). */
  uuid: string;
  /** App the resource is attached to. */
  app: string;
  /** Attachment name; config vars are prefixed with it (`--as`). */
  name: string;
  options: Record<string, unknown>;
  region?: string;
}

/** A provisioned resource. */
export interface ProvisionResult {
  /** Provider's id for the resource (for later plan change and deprovision). */
  id: string;
  /**
   * Config vars to set on the app, exactly as they will be set: already renamed for the
   * attachment (`--as PRIMARY` → `PRIMARY_URL`). The runtime does not rename them again.
   */
  config: Record<string, string>;
  /** Shown to the user. */
  message?: string;
}

/** Request to change an add-on's plan. */
export interface PlanChangeRequest {
  service: string;
  uuid: string;
  id: string;
  app: string;
  plan: string;
  /** Attachment name the resource was provisioned with (config var prefix). */
  name?: string;
  /** Plan the resource is on now. */
  previousPlan?: string;
}

/** Request to destroy an add-on resource. */
export interface DeprovisionRequest {
  service: string;
  uuid: string;
  id: string;
  app: string;
  /** Attachment name the resource was provisioned with. */
  name?: string;
  /** Plan the resource is on. */
  plan?: string;
}

/** Facts about an incoming HTTP request given to `route` (read only; no body). */
export interface IncomingRequestInfo {
  method: string;
  /** Host header, lower-cased, without port or trailing dot. */
  host: string;
  /** Path and query as sent. */
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  remoteAddress: string;
  protocol: 'http' | 'https';
}

/**
 * Header edits a `route` tap may attach to a decision. A decision without them costs the
 * router nothing extra; edits of several taps are merged with `withHeaderEdits`.
 */
export interface HeaderEdits {
  /**
   * Request headers for the dyno (`app` decisions only): `set` replaces whatever the client
   * sent under each name, `remove` drops names. The router's own headers (`X-Request-Id`,
   * `X-Forwarded-*`, `X-Request-Start`, `Via`) and the framing ones (`Content-Length`,
   * `Transfer-Encoding`, `Connection`, `Upgrade`) cannot be edited: such names are ignored.
   */
  requestHeaders?: { set?: Readonly<Record<string, string>>; remove?: readonly string[] };
  /**
   * Response headers for the client, on every answer of an HTTP request (the dyno's response,
   * a page, a redirect, an H-code error; not the `101` of a WebSocket handshake); each replaces
   * a header of the same name from the dyno.
   * Framing headers (`Content-Length`, `Transfer-Encoding`, `Connection`) are ignored.
   */
  responseHeaders?: Readonly<Record<string, string>>;
}

/** The router's decision; plugins return a changed copy from `route`. */
export type RouteDecision =
  /** Proxy to the app's web dynos. */
  | ({ kind: 'app'; app: string } & HeaderEdits)
  /** Answer directly (maintenance page, blocked host). `code` is a Heroku H-code for the log. */
  | ({
      kind: 'respond';
      status: number;
      code?: string;
      headers?: Record<string, string>;
      body: string;
      app?: string;
    } & HeaderEdits)
  /** Redirect the client. */
  | ({ kind: 'redirect'; status: 301 | 302 | 307 | 308; location: string; app?: string } & HeaderEdits)
  /** No app serves this host: 404. */
  | { kind: 'none' };

/**
 * A copy of `decision` with `edits` merged into the edits it already carries (later names win;
 * a removal cancels an earlier `set` of the name). For taps of the `route` hook.
 */
export function withHeaderEdits<D extends RouteDecision>(decision: D, edits: HeaderEdits): D {
  if (decision.kind === 'none') return decision;
  const d = decision as Exclude<RouteDecision, { kind: 'none' }>;
  const out = { ...d } as typeof d;
  if (edits.responseHeaders) {
    const merged: Record<string, string> = { ...d.responseHeaders };
    for (const [k, v] of Object.entries(edits.responseHeaders)) {
      for (const old of Object.keys(merged)) if (old.toLowerCase() === k.toLowerCase()) delete merged[old];
      merged[k] = v;
    }
    out.responseHeaders = merged;
  }
  if (edits.requestHeaders) {
    const set: Record<string, string> = { ...d.requestHeaders?.set };
    const remove = new Set(d.requestHeaders?.remove?.map((n) => n.toLowerCase()));
    for (const n of edits.requestHeaders.remove ?? []) {
      remove.add(n.toLowerCase());
      for (const k of Object.keys(set)) if (k.toLowerCase() === n.toLowerCase()) delete set[k];
    }
    for (const [k, v] of Object.entries(edits.requestHeaders.set ?? {})) {
      remove.delete(k.toLowerCase());
      for (const old of Object.keys(set)) if (old.toLowerCase() === k.toLowerCase()) delete set[old];
      set[k] = v;
    }
    out.requestHeaders = { set, remove: [...remove] };
  }
  return out as D;
}

/** Create the hook map of a kernel. */
export function createKernelHooks() {
  return Object.freeze({
    /**
     * Fires once per build (or once per pinned buildpack with `only` set), in stage order.
     * Return a Detection to claim the app; return undefined to pass. First answer wins.
     */
    detect: new AsyncSeriesBailHook<[DetectContext], Detection | undefined>(['ctx']),
    /**
     * `compile.for(buildpackId)`: turns the build dir into a runnable app. Fires for each
     * chosen buildpack in order; throwing fails the build. Taps of one buildpack run in series.
     */
    compile: new HookMap(() => new AsyncSeriesHook<[CompileContext]>(['ctx'])),
    /**
     * After all compiles, once per buildpack in build order (`ctx.buildpack`): return the spec
     * with this buildpack's process types, config defaults and add-ons merged in (later
     * buildpacks win). The Procfile is applied after this hook.
     */
    release: new AsyncSeriesWaterfallHook<[ReleaseSpec, ReleaseContext]>(['spec', 'ctx']),
    /**
     * `provision.for(service)`: create a resource; return its config. First answer wins;
     * undefined from every tap means the service has no provider.
     */
    provision: new HookMap(
      () => new AsyncSeriesBailHook<[ProvisionRequest], ProvisionResult | undefined>(['req']),
    ),
    /** `planChange.for(service)`: move a resource to another plan; may return new config. */
    planChange: new HookMap(
      () => new AsyncSeriesBailHook<[PlanChangeRequest], ProvisionResult | undefined>(['req']),
    ),
    /** `deprovision.for(service)`: destroy a resource and its data. Must be idempotent. */
    deprovision: new HookMap(() => new AsyncSeriesHook<[DeprovisionRequest]>(['req'])),
    /**
     * On every HTTP request the Node router serves (on HAProxy, only those a `code` route rule
     * sends to it), after the route rules, synchronously (hot path: no I/O, no promises). Receives the
     * decision so far (from the host table) and returns it, changed or not: another app, an
     * answer, a redirect, and/or header edits (`requestHeaders` set/remove for the dyno,
     * `responseHeaders` for the client; merge them with `withHeaderEdits`).
     */
    route: new SyncWaterfallHook<[RouteDecision, IncomingRequestInfo]>(['decision', 'req']),
    /**
     * The declarative form of `route`: the rules of one app (`ctx.app`), each tap appending
     * its own (`RouteRule` in route-rules.ts) in stage order, and returning the list. Called
     * when the data plane compiles the app's routing (HAProxy: on every state change and poll;
     * Node: on an app's first request after `routeRulesChanged`, or after 100 ms), never with
     * I/O: read the plugin's in-memory state. The rules
     * of all taps are evaluated in order: the first `app`, answer or redirect decides (an
     * `app` action switches to that app's rules, once), every matching edit rule of the serving
     * app adds its edits. Runs before the `route` taps; a `code` rule sends the request through
     * the Node router on the HAProxy data plane, where the `route` taps run.
     */
    routeRules: new SyncWaterfallHook<[RouteRule[], RouteRulesContext]>(['rules', 'ctx']),
    /**
     * Call it when what a `routeRules` tap returns may have changed (a flag, a policy, a pending
     * challenge): the Node router drops the rules it keeps, so the next request sees the change,
     * and the HAProxy data plane compiles and applies them at once. Unannounced changes reach
     * either within 100 ms (they read the taps again then).
     */
    routeRulesChanged: new SyncHook<[]>([]),
    /**
     * Before detect, with the isolated build dir filled. Throw to refuse the build. In platform
     * builds it runs in the platform process (the build worker relays it), on the app's build
     * dir: treat its contents as untrusted.
     */
    beforeBuild: new AsyncSeriesHook<[BuildEvent]>(['build']),
    /**
     * After the slug is written (or the build failed: then `outcome` is undefined). In platform
     * builds it runs in the platform process, like `beforeBuild`.
     */
    afterBuild: new AsyncSeriesHook<[BuildEvent, BuildOutcome | undefined]>(['build', 'outcome']),
    /** Before a release goes live (after its release phase). Throw to stop it. */
    beforeRelease: new AsyncSeriesHook<[ReleaseEvent]>(['release']),
    /** After a release is live. Errors are logged, not fatal. */
    afterRelease: new AsyncSeriesHook<[ReleaseEvent]>(['release']),
    /** A dyno started (synchronous; keep it cheap). */
    dynoStart: new SyncHook<[DynoEvent]>(['dyno']),
    /** A dyno exited (synchronous; keep it cheap). */
    dynoExit: new SyncHook<[DynoExitEvent]>(['dyno']),
    /** Every log line of every app (synchronous; drains and sinks tap it). */
    log: new SyncHook<[LogLine]>(['line']),
    /**
     * The platform is stopping (`kernel.close()`): stop supervised servers, flush buffers.
     * Taps run one after another; errors are collected, not fatal to the others.
     */
    shutdown: new AsyncSeriesHook<[]>([]),
  });
}

/** The kernel's hooks, as one frozen object. */
export type KernelHooks = ReturnType<typeof createKernelHooks>;
