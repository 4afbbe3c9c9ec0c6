// Over 400 lines: reconcile, preboot and crash back-off share each app's state and change queue.
/**
 * The dyno manager: reconciles each app's formation against what runs, over any core
 * `DynoRuntime`. A new release boots its web dynos next to the old ones and switches the route
 * table only when every new dyno binds $PORT (and passes the healthcheck); then old dynos get
 * SIGTERM while the router drains them. A failed boot (R10) leaves the old release serving.
 * Crashed dynos restart on a back-off schedule driven by per-dyno timers, so one app's crash
 * loop never waits on, or blocks, anything else. Changes to one app run one at a time.
 */
import {
  type Clock,
  type DynoHandle,
  type DynoRuntime,
  type DynoSize,
  type DynoStatus,
  type Kernel,
  type LogSink,
  type OneOffSession,
  type OneOffSpec,
  systemClock,
} from '@slipway/core';
import type { RouteTable, RouteTarget } from '@slipway/router';
import { LogBudget, type LogBudgetOptions } from '../logs/log-budget.js';
import { type BootResult, bootCheck } from './boot-check.js';
import { exitStatus } from './dyno-process.js';
import {
  type AppState,
  computeRoute,
  type DynoTarget,
  type ExitInfo,
  fmtSeconds,
  type ManagedDyno,
  newAppState,
  newDyno,
  type Slot,
  toTarget,
} from './dyno-state.js';
import { dynoErrors } from './errors.js';
import {
  type BackoffPolicy,
  backoffDelay,
  countsAsCrash,
  DYNO_SIZES,
  herokuBackoff,
  resolveSize,
} from './policy.js';

export type { DynoTarget, ExitInfo } from './dyno-state.js';

/** Options of the dyno manager. */
export interface DynoManagerOptions {
  /** For the `dynoStart`/`dynoExit` hooks. */
  kernel?: Pick<Kernel, 'hooks'>;
  runtime: DynoRuntime;
  /** Platform lines (`slipway[web.1]`) and dyno output (`app[web.1]`) go here. */
  log: LogSink;
  /** Web dynos must bind $PORT within this (Heroku: 60 s). */
  bootTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace (Heroku: 30 s). */
  stopGraceMs?: number;
  /** Crash restart schedule; fields left out take Heroku's values. */
  backoff?: Partial<BackoffPolicy>;
  /** Dyno sizes by name (memory MB); default Heroku's. */
  sizes?: Readonly<Record<string, number>>;
  /** Pause between the route switch and SIGTERM to old dynos, for requests already on their way; default 500 ms. */
  switchDelayMs?: number;
  /** Least time between two R14 lines of one dyno; default 60 s. */
  memoryLogEveryMs?: number;
  /** Log source of platform lines; default `slipway`. */
  source?: string;
  /** How much one dyno may log before lines are dropped with an L10 notice (see log-budget.ts). */
  logBudget?: LogBudgetOptions;
  /** The time source of the boot timeout and the restart back-off (the kernel's `Clock`); default the system's. */
  clock?: Clock;
}

/** Reconciles formations with a DynoRuntime and publishes the router's view of web dynos. */
export class DynoManager {
  private readonly runtime: DynoRuntime;
  private readonly log: LogSink;
  private readonly kernel: Pick<Kernel, 'hooks'> | undefined;
  private readonly bootTimeoutMs: number;
  private readonly stopGraceMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly sizes: Readonly<Record<string, number>>;
  private readonly switchDelayMs: number;
  private readonly memoryLogEveryMs: number;
  private readonly source: string;
  private readonly budget: LogBudget;
  private readonly clock: Clock;
  private readonly apps = new Map<string, AppState>();
  private readonly byHandle = new Map<string, ManagedDyno>();
  private closed = false;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's listener signature (on/off take these as they are)
  private readonly listeners: [string, (...a: any[]) => void][];

  constructor(opts: DynoManagerOptions) {
    this.runtime = opts.runtime;
    this.log = opts.log;
    this.kernel = opts.kernel;
    this.bootTimeoutMs = opts.bootTimeoutMs ?? 60_000;
    this.stopGraceMs = opts.stopGraceMs ?? 30_000;
    this.backoff = { ...herokuBackoff, ...opts.backoff };
    this.sizes = opts.sizes ?? DYNO_SIZES;
    this.switchDelayMs = opts.switchDelayMs ?? 500;
    this.memoryLogEveryMs = opts.memoryLogEveryMs ?? 60_000;
    this.source = opts.source ?? 'slipway';
    this.budget = new LogBudget(opts.logBudget);
    this.clock = opts.clock ?? systemClock;
    this.listeners = [
      ['output', (h: DynoHandle, line: string, stream?: string) => this.onOutput(h, line, stream)],
      [
        'exit',
        (h: DynoHandle, code: number | null, signal: NodeJS.Signals | null, info?: ExitInfo) =>
          this.onExit(h, code, signal, info),
      ],
      ['memory', (h: DynoHandle, used: number, quota: number) => this.onMemory(h, used, quota)],
    ];
    for (const [ev, fn] of this.listeners) this.runtime.on(ev, fn);
  }

  /**
   * Make the app run `target`. A new release: boot new web dynos, switch the routes, SIGTERM
   * the old ones; other process types are replaced. The same release: scale up or down (and
   * restart types whose size changed). Rejects with a coded error when the new web dynos fail
   * to boot; the old release then keeps serving.
   */
  apply(app: string, target: DynoTarget): Promise<void> {
    if (this.closed) return Promise.reject(dynoErrors.SLIPWAY_ERR_DYNO_CLOSED());
    for (const [type, f] of Object.entries(target.formation)) {
      if (f.quantity > 0 && !target.processTypes[type])
        return Promise.reject(
          dynoErrors.SLIPWAY_ERR_DYNO_NO_COMMAND({
            app,
            release: target.release,
            type,
            quantity: f.quantity,
          }),
        );
      try {
        resolveSize(f.size, this.sizes);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.serial(app, async (st) => {
      const cur = st.target;
      if (!cur || cur.release !== target.release) await this.rollout(st, target);
      else await this.scale(st, target);
      // Applied once every data plane serves it: right after a deploy, a pushed one (HAProxy)
      // must not still answer H81 or send to the old dynos.
      await this.routeServed(st);
    });
  }

  /** Stop every dyno of an app (SIGTERM, SIGKILL after the grace) and forget it. */
  stopApp(app: string): Promise<void> {
    const st = this.apps.get(app);
    if (!st) return Promise.resolve();
    return this.serial(app, async () => {
      st.target = undefined;
      this.setRouted(st, []);
      const all: ManagedDyno[] = [...st.retiring, ...st.oneOffs];
      for (const slot of st.slots.values()) {
        slot.timer?.cancel();
        if (slot.dyno) all.push(slot.dyno);
      }
      st.slots.clear();
      await Promise.all(all.map((d) => this.stopDyno(d)));
      this.apps.delete(app);
    });
  }

  /**
   * Restart an app's dynos (all, one process type, or one dyno such as `web.1`); a process type's
   * web dynos are replaced without downtime, a single dyno is stopped and then started again.
   */
  restart(app: string, type?: string): Promise<void> {
    const st = this.apps.get(app);
    if (!st?.target) return Promise.resolve();
    return this.serial(app, async () => {
      if (!st.target) return;
      const one = type === undefined ? undefined : st.slots.get(type);
      if (!one) return this.rollout(st, st.target, type);
      one.timer?.cancel();
      if (one.dyno) await this.stopDyno(one.dyno);
      await this.startSlot(st, one.type, one.index, one);
    });
  }

  /** The app's dynos as the manager sees them (formation dynos, retiring ones, one-offs). */
  status(app: string): DynoStatus[] {
    const st = this.apps.get(app);
    if (!st) return [];
    const ds: ManagedDyno[] = [];
    for (const s of st.slots.values()) if (s.dyno) ds.push(s.dyno);
    ds.push(...st.retiring, ...st.oneOffs);
    return ds.map((d) => ({
      id: d.handle?.id ?? '',
      app: d.app,
      release: d.release,
      type: d.type,
      index: d.index,
      ...(d.handle?.host ? { host: d.handle.host } : {}),
      ...(d.handle?.port ? { port: d.handle.port } : {}),
      ...(d.handle?.node ? { node: d.handle.node } : {}),
      startedAt: d.handle?.startedAt ?? 0,
      state: d.state === 'complete' ? 'down' : d.state,
    }));
  }

  /**
   * The router's view: apps and their up, routed web dynos. Hosts map to apps with
   * `appForHost` when given (custom domains are the platform's business), else the first
   * label of the host names the app.
   */
  routeTable(appForHost?: (host: string) => string | undefined): RouteTable {
    return {
      appForHost: (host) => {
        if (appForHost) return appForHost(host);
        const label = host.split('.', 1)[0]!;
        return this.apps.has(label) ? label : undefined;
      },
      route: (app) => {
        const st = this.apps.get(app);
        if (!st) return undefined;
        st.routeCache ??= computeRoute(st);
        return st.routeCache;
      },
      onChange: (fn) => {
        this.routeListeners.add(fn);
      },
    };
  }

  /** Run a one-off dyno (`run`, release phase) of an app; never restarted; logs start and exit. */
  async runOnce(app: string, spec: Omit<OneOffSpec, 'app'> & { app?: string }): Promise<OneOffSession> {
    if (this.closed) throw dynoErrors.SLIPWAY_ERR_DYNO_CLOSED();
    const session = await this.runtime.runOnce({ ...spec, app });
    const h = session.handle;
    const d = newDyno(app, h.type, h.index, spec.release, false);
    d.oneOff = true;
    d.handle = h;
    d.state = 'up';
    this.byHandle.set(h.id, d);
    this.state(app).oneOffs.add(d);
    this.platform(
      app,
      d.name,
      `Starting process with command \`${spec.command}\`${spec.attach ? ' by user' : ''}`,
    );
    this.platform(app, d.name, 'State changed from starting to up');
    this.kernel?.hooks.dynoStart.call({ app, dyno: d.name, release: d.release });
    return session;
  }

  /** Stop timers and every dyno of every app; the manager starts nothing afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.apps.keys()].map((a) => this.stopApp(a)));
    for (const [ev, fn] of this.listeners) this.runtime.off(ev, fn);
  }

  // -------------------------------------------------------------------------------------------

  private state(app: string): AppState {
    let st = this.apps.get(app);
    if (!st) {
      st = newAppState(app);
      this.apps.set(app, st);
    }
    return st;
  }

  private serial(app: string, fn: (st: AppState) => Promise<void>): Promise<void> {
    const st = this.state(app);
    // A stopApp queued earlier forgets the app; work queued after it brings it back.
    const go = () => {
      if (!this.apps.has(app)) this.apps.set(app, st);
      return fn(st);
    };
    const run = st.chain.then(go, go);
    st.chain = run.catch(() => {});
    return run;
  }

  private setRouted(st: AppState, targets: readonly RouteTarget[]): void {
    st.routed = Object.freeze([...targets]);
    this.touchRoute(st);
  }

  private touchRoute(st: AppState): void {
    st.routeCache = undefined;
    st.routeApplied = Promise.allSettled([...this.routeListeners].map((fn) => fn()));
  }

  /** Told after any app's route may have changed (a data plane that pushes, HAProxy, applies it at once). */
  private readonly routeListeners = new Set<() => unknown>();

  /**
   * Before dynos taken out of the route are stopped: the switch delay (requests already sent to
   * them get there), and every data plane serving the new route (a pushed one, HAProxy, takes a
   * moment under load: an old dyno it still sends to would refuse). A data plane that does not
   * answer in 10 s is not waited for longer.
   */
  private async unrouted(st: AppState): Promise<void> {
    await Promise.all([this.pause(this.switchDelayMs), this.routeServed(st)]);
  }

  /** Every data plane serving the app's latest route, or 10 s passed. */
  private async routeServed(st: AppState): Promise<void> {
    let timer: { cancel(): void } | undefined;
    const capped = new Promise<void>((r) => {
      timer = this.clock.setTimeout(r, 10_000);
    });
    await Promise.race([st.routeApplied, capped]);
    timer?.cancel();
  }

  /** Wait `ms` on the clock. */
  private pause(ms: number): Promise<void> {
    return new Promise((r) => this.clock.setTimeout(r, ms));
  }

  /** Start one dyno and, for web, run its boot check. Never throws: failures are in the result. */
  private async boot(st: AppState, d: ManagedDyno, target: DynoTarget): Promise<BootResult> {
    const size: DynoSize = resolveSize(target.formation[d.type]?.size ?? 'standard-1x', this.sizes);
    const command = target.processTypes[d.type]!;
    this.platform(st.name, d.name, `Starting process with command \`${command}\``);
    try {
      const h = await this.runtime.start({
        app: st.name,
        release: target.release,
        type: d.type,
        index: d.index,
        command,
        env: { ...target.env, DYNO: d.name },
        size,
        slug: target.slug,
      });
      d.handle = h;
      this.byHandle.set(h.id, d);
      if (d.expected) {
        // Stopped (scale down, stopApp) while the runtime was still starting it.
        d.state = 'stopping';
        await this.runtime.stop(h, this.stopGraceMs);
        await d.onExit;
        return { ok: false, kind: 'exited', detail: 'stopped while starting' };
      }
    } catch (e) {
      d.exited = true;
      d.state = 'crashed';
      this.platform(st.name, d.name, `Failed to start: ${(e as Error).message}`);
      this.platform(st.name, d.name, 'State changed from starting to crashed');
      d.resolveExit();
      return { ok: false, kind: 'exited', detail: (e as Error).message };
    }
    this.kernel?.hooks.dynoStart.call({ app: st.name, dyno: d.name, release: d.release });
    if (d.type !== 'web' || !d.handle.port) return this.markUp(st, d);
    const result = await bootCheck({
      host: d.handle.host ?? '127.0.0.1',
      port: d.handle.port,
      // From now, on the clock: the runtime's start time is its own (a container's, a node's).
      deadline: this.clock.now() + this.bootTimeoutMs,
      clock: this.clock,
      exited: () => d.exited,
      ...(target.healthcheck ? { healthcheck: target.healthcheck } : {}),
    });
    if (result.ok) return this.markUp(st, d);
    if (result.kind === 'timeout') {
      this.platform(
        st.name,
        d.name,
        `Error R10 (Boot timeout) -> Web process failed to bind to $PORT within ${fmtSeconds(this.bootTimeoutMs)} of launch`,
      );
    } else if (result.kind === 'healthcheck') {
      this.platform(st.name, d.name, `Healthcheck ${target.healthcheck?.path} failed: ${result.detail}`);
    }
    if (!d.exited) {
      this.platform(st.name, d.name, 'Stopping process with SIGKILL');
      await this.runtime.stop(d.handle, 0);
      await d.onExit;
    }
    return result;
  }

  private markUp(st: AppState, d: ManagedDyno): BootResult {
    if (d.exited) return { ok: false, kind: 'exited', detail: 'exited while booting' };
    d.state = 'up';
    d.upAt = this.clock.now();
    this.platform(st.name, d.name, 'State changed from starting to up');
    this.touchRoute(st);
    return { ok: true };
  }

  /** Replace all dynos (or one type's) with `target`'s, web without downtime. */
  private async rollout(st: AppState, target: DynoTarget, onlyType?: string): Promise<void> {
    const prev = st.target;
    const webQty = target.processTypes.web ? (target.formation.web?.quantity ?? 0) : 0;
    const rollWeb = onlyType === undefined || onlyType === 'web';
    const fresh: ManagedDyno[] = [];
    if (rollWeb) {
      for (let i = 1; i <= webQty; i++) fresh.push(newDyno(st.name, 'web', i, target.release, true));
      st.bootingWeb += fresh.length;
      this.touchRoute(st);
      const results = await Promise.all(fresh.map((d) => this.boot(st, d, target))).finally(() => {
        st.bootingWeb -= fresh.length;
        this.touchRoute(st);
      });
      const failed = results.findIndex((r) => !r.ok);
      if (failed >= 0) {
        await Promise.all(fresh.map((d) => this.stopDyno(d)));
        const r = results[failed] as Extract<BootResult, { ok: false }>;
        const d = fresh[failed]!;
        const params = {
          app: st.name,
          release: target.release,
          previous: prev?.release ?? '(none)',
          dyno: d.name,
          seconds: Math.round(this.bootTimeoutMs / 1000),
          code: 'non-zero',
          path: target.healthcheck?.path,
          detail: r.detail,
        };
        if (!prev) st.target = target; // nothing else runs: show the app as crashed, not unreleased
        this.touchRoute(st);
        throw r.kind === 'timeout'
          ? dynoErrors.SLIPWAY_ERR_DYNO_BOOT_TIMEOUT(params)
          : r.kind === 'healthcheck'
            ? dynoErrors.SLIPWAY_ERR_DYNO_HEALTHCHECK(params)
            : dynoErrors.SLIPWAY_ERR_DYNO_BOOT_CRASHED(params);
      }
    }
    // Switch: from here on the new release is the app's.
    st.target = target;
    const old: ManagedDyno[] = [];
    for (const [key, slot] of [...st.slots]) {
      if (!rollWeb && slot.type === 'web') continue;
      if (onlyType !== undefined && slot.type !== onlyType) continue;
      slot.timer?.cancel();
      if (slot.dyno) old.push(slot.dyno);
      st.slots.delete(key);
    }
    for (const d of fresh) {
      d.inBatch = false;
      st.slots.set(d.name, { type: 'web', index: d.index, dyno: d, crashes: 0, timer: undefined });
      if (d.exited) this.scheduleRestart(st, st.slots.get(d.name)!, d);
    }
    if (rollWeb) this.setRouted(st, fresh.filter((d) => d.state === 'up').map(toTarget));
    for (const d of old) {
      d.expected = true;
      st.retiring.add(d);
    }
    // Workers and other types: replaced, not prebooted (nothing routes to them).
    for (const [type, f] of Object.entries(target.formation)) {
      if (type === 'web' || !target.processTypes[type]) continue;
      if (onlyType !== undefined && type !== onlyType) continue;
      for (let i = 1; i <= f.quantity; i++) this.startSlot(st, type, i);
    }
    const stopOld = async () => {
      if (old.some((d) => d.type === 'web')) await this.unrouted(st);
      await Promise.all(old.map((d) => this.stopDyno(d)));
    };
    void stopOld();
  }

  /** Same release: start missing slots, stop surplus ones, restart types whose size changed. */
  private async scale(st: AppState, target: DynoTarget): Promise<void> {
    const prev = st.target!;
    st.target = target;
    // A new size needs new dynos: replaced like a restart (web without downtime), after the scaling.
    const resized = Object.keys(target.formation).filter(
      (t) =>
        prev.formation[t] &&
        prev.formation[t]!.size !== target.formation[t]!.size &&
        target.formation[t]!.quantity > 0,
    );
    const surplus: ManagedDyno[] = [];
    for (const [key, slot] of [...st.slots]) {
      const q = target.processTypes[slot.type] ? (target.formation[slot.type]?.quantity ?? 0) : 0;
      if (slot.index <= q) continue;
      slot.timer?.cancel();
      st.slots.delete(key);
      if (slot.dyno) {
        slot.dyno.expected = true;
        surplus.push(slot.dyno);
      }
    }
    // Out of the routes first; SIGTERM after the switch delay, as for a release switch.
    const routedBefore = st.routed.length;
    this.setRouted(
      st,
      st.routed.filter((t) => st.slots.has(t.dyno)),
    );
    const stops = (async () => {
      if (st.routed.length < routedBefore) await this.unrouted(st);
      await Promise.all(surplus.map((d) => this.stopDyno(d)));
    })();
    const boots: Promise<unknown>[] = [];
    for (const [type, f] of Object.entries(target.formation)) {
      if (!target.processTypes[type]) continue;
      for (let i = 1; i <= f.quantity; i++)
        if (!st.slots.has(`${type}.${i}`)) boots.push(this.startSlot(st, type, i));
    }
    this.touchRoute(st);
    await Promise.all([...boots, stops]);
    for (const type of resized) await this.rollout(st, target, type);
  }

  /** Start the dyno of a slot (creating the slot); web dynos join the routes once up. */
  private startSlot(st: AppState, type: string, index: number, existing?: Slot): Promise<void> {
    const target = st.target;
    if (!target || this.closed) return Promise.resolve();
    const key = `${type}.${index}`;
    const slot: Slot = existing ?? { type, index, dyno: undefined, crashes: 0, timer: undefined };
    st.slots.set(key, slot);
    const d = newDyno(st.name, type, index, target.release, false);
    if (slot.dyno?.state === 'crashed')
      this.platform(st.name, d.name, 'State changed from crashed to starting');
    slot.dyno = d;
    this.touchRoute(st);
    return this.boot(st, d, target).then((r) => {
      if (st.slots.get(key) !== slot || slot.dyno !== d) return;
      if (r.ok && type === 'web')
        this.setRouted(st, [...st.routed.filter((t) => t.dyno !== d.name), toTarget(d)]);
      // A failed boot ends in onExit (crash), which schedules the restart.
      if (!r.ok && d.exited && !d.handle) this.scheduleRestart(st, slot, d);
    });
  }

  private scheduleRestart(st: AppState, slot: Slot, d: ManagedDyno, counts = true): void {
    if (this.closed || !st.target || st.slots.get(`${slot.type}.${slot.index}`) !== slot) return;
    if (d.upAt && this.clock.now() - d.upAt >= this.backoff.resetAfterMs) slot.crashes = 0;
    let delay = this.backoff.outsideKillDelayMs;
    if (counts) {
      slot.crashes++;
      delay = backoffDelay(this.backoff, slot.crashes);
      if (delay > 0)
        this.platform(st.name, d.name, `Crashed ${slot.crashes} times; restarting in ${fmtSeconds(delay)}`);
    } else
      this.platform(
        st.name,
        d.name,
        `Killed by a signal from outside the dyno; not counted as a crash; restarting in ${fmtSeconds(delay)}`,
      );
    slot.timer?.cancel();
    slot.timer = this.clock.setTimeout(() => {
      slot.timer = undefined;
      if (st.slots.get(`${slot.type}.${slot.index}`) === slot && st.target)
        void this.startSlot(st, slot.type, slot.index, slot);
    }, delay);
  }

  /** SIGTERM a dyno (SIGKILL after the grace) and wait for its exit. */
  private async stopDyno(d: ManagedDyno): Promise<void> {
    d.expected = true;
    if (d.exited) return;
    if (!d.handle) return d.onExit;
    if (d.state !== 'stopping') {
      d.state = 'stopping';
      this.platform(d.app, d.name, 'Stopping all processes with SIGTERM');
      const st = this.apps.get(d.app);
      if (st?.routed.some((t) => t.port === d.handle!.port && t.host === d.handle!.host))
        this.setRouted(
          st,
          st.routed.filter((t) => t.port !== d.handle!.port || t.host !== d.handle!.host),
        );
      await this.runtime.stop(d.handle, this.stopGraceMs);
    }
    await d.onExit;
  }

  /**
   * A line of a dyno. Stream `platform` is the runtime speaking about the dyno (its own L10
   * notice); anything else is the app's, within the dyno's log budget here too, for runtimes
   * that do not drop a flood themselves.
   */
  private onOutput(h: DynoHandle, line: string, stream?: string): void {
    const dyno = `${h.type}.${h.index}`;
    if (stream === 'platform') {
      this.platform(h.app, dyno, line);
      return;
    }
    if (!this.budget.admit(h.id, line.length, (m) => this.platform(h.app, dyno, m))) return;
    this.log.write({
      app: h.app,
      time: Date.now(),
      source: 'app',
      dyno,
      message: line,
    });
  }

  private onExit(h: DynoHandle, code: number | null, signal: NodeJS.Signals | null, info?: ExitInfo): void {
    this.budget.forget(h.id, (m) => this.platform(h.app, `${h.type}.${h.index}`, m));
    const d = this.byHandle.get(h.id);
    if (!d) return;
    this.byHandle.delete(h.id);
    const st = this.apps.get(d.app);
    if (info?.reason === 'stop-timeout') {
      this.platform(
        d.app,
        d.name,
        `Error R12 (Exit timeout) -> At least one process failed to exit within ${fmtSeconds(this.stopGraceMs)} of SIGTERM`,
      );
      this.platform(d.app, d.name, 'Stopping remaining processes with SIGKILL');
    } else if (info?.reason === 'memory') {
      this.platform(d.app, d.name, 'Error R15 (Memory quota vastly exceeded)');
      this.platform(d.app, d.name, 'Stopping process with SIGKILL');
    }
    this.platform(d.app, d.name, `Process exited with status ${info?.status ?? exitStatus(code, signal)}`);
    const from = d.state;
    d.exited = true;
    d.state = d.oneOff ? 'complete' : d.expected ? 'down' : 'crashed';
    this.platform(d.app, d.name, `State changed from ${from} to ${d.state}`);
    this.kernel?.hooks.dynoExit.call({
      app: d.app,
      dyno: d.name,
      release: d.release,
      code,
      signal,
      expected: d.expected || d.oneOff,
    });
    if (st) {
      st.retiring.delete(d);
      st.oneOffs.delete(d);
      if (st.routed.some((t) => t.port === h.port && t.host === h.host))
        this.setRouted(
          st,
          st.routed.filter((t) => t.port !== h.port || t.host !== h.host),
        );
      else this.touchRoute(st);
      const slot = st.slots.get(d.name);
      if (!d.expected && !d.inBatch && !d.oneOff && slot && slot.dyno === d)
        this.scheduleRestart(
          st,
          slot,
          d,
          countsAsCrash(signal, info?.status ?? exitStatus(code, signal), info?.reason),
        );
    }
    d.resolveExit();
  }

  private onMemory(h: DynoHandle, used: number, quota: number): void {
    const d = this.byHandle.get(h.id);
    if (!d || used <= quota || Date.now() - d.lastR14 < this.memoryLogEveryMs) return;
    d.lastR14 = Date.now();
    this.platform(
      d.app,
      d.name,
      `Process running mem=${Math.round(used / 1048576)}M(${((used / quota) * 100).toFixed(1)}%)`,
    );
    this.platform(d.app, d.name, 'Error R14 (Memory quota exceeded)');
  }

  private platform(app: string, dyno: string, message: string): void {
    this.log.write({ app, time: Date.now(), source: this.source, dyno, message });
  }
}
