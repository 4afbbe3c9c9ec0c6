/**
 * Releases: every change that alters what an app runs (deploy, config change, add-on change,
 * rollback) creates release vN+1, runs its Procfile `release` process as a one-off, and only
 * then hands it to the dyno manager. A release that fails at any step is marked failed and the
 * previous one keeps serving. Changes to one app run one at a time (a queue per app), so two
 * deploys never race; different apps never wait for each other.
 */
import type { Kernel, LogSink, OneOffSession, OneOffSpec, SlugRef } from '@slipway/core';
import { clockRef, isSlipwayError, systemClock } from '@slipway/core';
import { DYNO_SIZES } from './dynos/policy.js';
import { runtimeErrors } from './errors.js';
import type { AppRecord, ReleaseRecord, SlugRecord } from './state/records.js';
import type { SqliteStateStore } from './state/sqlite-state-store.js';

/** Dyno sizes the platform offers (the dyno manager's table; memory in MB). */
export { DYNO_SIZES };
/** Size given to process types nobody sized. */
export const DEFAULT_SIZE = 'standard-1x';
/** Most dynos of one type an app may scale to on one machine. */
export const MAX_QUANTITY = 100;
/** Release phase output kept per release (`releases:output`); the logs have all of it. */
export const MAX_RELEASE_OUTPUT_BYTES = 256 * 1024;

/** A dyno size as Heroku prints it in `Scaled to` lines: `standard-1x` → `Standard-1X`, `performance-l-ram` → `Performance-L-RAM`. */
export function herokuSizeName(size: string): string {
  return size
    .split('-')
    .map((w, i) => (i > 0 && w.length <= 3 ? w.toUpperCase() : w.charAt(0).toUpperCase() + w.slice(1)))
    .join('-');
}

/** What the release service needs from the dyno manager (`DynoManager` implements it). */
export interface DynoManagerPort {
  apply(
    app: string,
    target: {
      release: number;
      slug: SlugRef;
      env: Record<string, string>;
      processTypes: Record<string, string>;
      formation: Record<string, { quantity: number; size: string }>;
      healthcheck?: { path: string; timeoutMs?: number };
    },
  ): Promise<void>;
  stopApp(app: string): Promise<void>;
  restart(app: string, type?: string): Promise<void>;
  runOnce(app: string, spec: OneOffSpec): Promise<OneOffSession>;
}

/** A requested formation change. */
export interface FormationUpdate {
  type: string;
  quantity?: number;
  size?: string;
}

/** Dependencies of the release service. */
export interface ReleaseServiceOptions {
  state: SqliteStateStore;
  dynos: DynoManagerPort;
  kernel: Kernel;
  log: LogSink;
  /** Release-phase timeout (Heroku: 1 h). */
  releasePhaseTimeoutMs?: number;
}

/** A running release phase's output (`releases:output` follows it). */
interface PhaseOutput {
  releaseId: string;
  lines: string[];
  bytes: number;
  listeners: Set<(line: string | null) => void>;
}

/** Creates releases and makes them live. */
export class ReleaseService {
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Release phases running now, by `app/dyno`: the lines their dyno printed so far, and who follows them. */
  private readonly phaseOutput = new Map<string, PhaseOutput>();

  constructor(private readonly o: ReleaseServiceOptions) {
    // Detached one-offs print to the logs; the release phase's lines are also kept with the release.
    o.kernel.hooks.log.tap('@slipway/runtime/release-output', (l) => {
      const buf = l.source === 'app' ? this.phaseOutput.get(`${l.app}/${l.dyno}`) : undefined;
      if (!buf || buf.bytes > MAX_RELEASE_OUTPUT_BYTES) return;
      buf.lines.push(l.message);
      buf.bytes += l.message.length + 1;
      for (const fn of buf.listeners) fn(l.message);
    });
  }

  /**
   * Follow the release phase of release `releaseId` while it runs: its lines so far, then live
   * ones, then `null` once it ended (its output is stored by then). Undefined when it is not
   * running (the stored output is all there is); the function returned stops following.
   */
  followReleasePhase(releaseId: string, fn: (line: string | null) => void): (() => void) | undefined {
    for (const buf of this.phaseOutput.values()) {
      if (buf.releaseId !== releaseId) continue;
      for (const l of buf.lines) fn(l);
      buf.listeners.add(fn);
      return () => buf.listeners.delete(fn);
    }
    return undefined;
  }

  /** Run `fn` after every earlier change of `app` finished (whatever its outcome). */
  serial<T>(app: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(app) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(app, settled);
    void settled.then(() => {
      if (this.queues.get(app) === settled) this.queues.delete(app);
    });
    return run;
  }

  /** Log a platform event to the app's stream as `slipway[api]: …`. */
  event(app: string, message: string): void {
    this.o.log.write({ app, time: Date.now(), source: 'slipway', dyno: 'api', message });
  }

  /**
   * A new slug was built: release it (first deploy also sizes the formation). The buildpacks'
   * config defaults apply where the app has not set the var, with the release: a release that
   * fails (or a platform killed meanwhile) leaves the config as it was.
   */
  deploy(
    app: AppRecord,
    slug: SlugRecord,
    description: string,
    configDefaults: Record<string, string> = {},
  ): Promise<ReleaseRecord> {
    return this.serial(app.name, async () => {
      const { state } = this.o;
      const before = state.config(app.id);
      const rel = state.transaction(() => {
        const config = { ...configDefaults, ...before };
        if (Object.keys(config).length !== Object.keys(before).length) state.replaceConfig(app.id, config);
        const appJsonFormation = (slug.appJson?.formation ?? {}) as Record<
          string,
          { quantity?: number; size?: string }
        >;
        const have = new Set(state.formation(app.id).map((f) => f.type));
        const add: FormationUpdate[] = [];
        for (const type of Object.keys(slug.processTypes)) {
          if (type === 'release' || have.has(type)) continue;
          const f = appJsonFormation[type];
          add.push({
            type,
            quantity: f?.quantity ?? (type === 'web' ? 1 : 0),
            size: f?.size && DYNO_SIZES[f.size] ? f.size : DEFAULT_SIZE,
          });
        }
        state.setFormation(app.id, add, DEFAULT_SIZE);
        return state.createRelease(app.id, { description, slug: slug.checksum, config });
      });
      return this.goLive(app, rel, before);
    });
  }

  /** Set (string) or unset (null) config vars: a new release with the new config. */
  setConfig(app: AppRecord, changes: Record<string, string | null>): Promise<ReleaseRecord> {
    return this.serial(app.name, async () => {
      const { state } = this.o;
      const before = state.config(app.id);
      const after = { ...before };
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) delete after[k];
        else after[k] = v;
      }
      const set = Object.keys(changes).filter((k) => changes[k] !== null);
      const unset = Object.keys(changes).filter((k) => changes[k] === null);
      const description = [
        set.length ? `Set ${set.join(', ')} config vars` : '',
        unset.length ? `Unset ${unset.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ');
      const rel = state.transaction(() => {
        state.replaceConfig(app.id, after);
        return state.createRelease(app.id, {
          description: description || 'Config unchanged',
          slug: state.currentRelease(app.id)?.slug ?? null,
          config: after,
        });
      });
      return this.goLive(app, rel, before);
    });
  }

  /** Roll back: a new release with the slug and config of `version` (default: the one before the live one). */
  rollback(app: AppRecord, version?: number): Promise<ReleaseRecord> {
    return this.serial(app.name, async () => {
      const { state } = this.o;
      const live = state.currentRelease(app.id);
      const target =
        version !== undefined
          ? state.release(app.id, version)
          : state
              .listReleases(app.id)
              .filter((r) => r.status === 'succeeded' && r.version < (live?.version ?? 0))
              .pop();
      if (!target)
        throw version !== undefined
          ? runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
              what: `release v${version} of ${app.name}`,
              hint: `See the releases with \`slipway releases -a ${app.name}\`.`,
            })
          : runtimeErrors.SLIPWAY_ERR_RUNTIME_NO_RELEASE({ app: app.name, action: 'roll back to' });
      const before = state.config(app.id);
      const rel = state.transaction(() => {
        state.replaceConfig(app.id, target.config);
        return state.createRelease(app.id, {
          description: `Rollback to v${target.version}`,
          slug: target.slug,
          config: target.config,
        });
      });
      return this.goLive(app, rel, before);
    });
  }

  /** Change the formation and apply it to the live release. */
  scale(app: AppRecord, updates: FormationUpdate[]): Promise<void> {
    return this.serial(app.name, async () => {
      const { state } = this.o;
      const live = state.currentRelease(app.id);
      const slug = live?.slug ? state.slug(live.slug) : undefined;
      const types = new Set([
        ...Object.keys(slug?.processTypes ?? {}),
        ...state.formation(app.id).map((f) => f.type),
      ]);
      for (const u of updates) {
        const fail = (detail: string) =>
          runtimeErrors.SLIPWAY_ERR_RUNTIME_FORMATION({
            type: u.type,
            detail,
            max: MAX_QUANTITY,
            sizes: Object.keys(DYNO_SIZES).join(', '),
          });
        if (!types.has(u.type) || u.type === 'release')
          throw fail(
            `the app has no such process type (it has: ${[...types].filter((t) => t !== 'release').join(', ') || 'none yet'})`,
          );
        if (
          u.quantity !== undefined &&
          (!Number.isInteger(u.quantity) || u.quantity < 0 || u.quantity > MAX_QUANTITY)
        )
          throw fail(`quantity ${u.quantity} is out of range`);
        if (u.size !== undefined && !DYNO_SIZES[u.size]) throw fail(`size ${u.size} is unknown`);
      }
      state.setFormation(app.id, updates, DEFAULT_SIZE);
      // Heroku's line names every process type's resulting quantity and size: `web@2:Standard-1X`.
      const after = state.formation(app.id).filter((f) => f.type !== 'release');
      this.event(
        app.name,
        `Scaled to ${after.map((f) => `${f.type}@${f.quantity}:${herokuSizeName(f.size)}`).join(' ')}`,
      );
      if (live?.slug && slug) await this.o.dynos.apply(app.name, this.target(app, live, slug));
    });
  }

  /** Bring an app back to its live release (platform start, after SIGKILL). */
  restore(app: AppRecord): Promise<void> {
    return this.serial(app.name, async () => {
      const live = this.o.state.currentRelease(app.id);
      const slug = live?.slug ? this.o.state.slug(live.slug) : undefined;
      if (live && slug) await this.o.dynos.apply(app.name, this.target(app, live, slug));
    });
  }

  /** The dyno manager's target for a release. */
  private target(app: AppRecord, rel: ReleaseRecord, slug: SlugRecord) {
    const formation: Record<string, { quantity: number; size: string }> = {};
    for (const f of this.o.state.formation(app.id))
      if (slug.processTypes[f.type] !== undefined) formation[f.type] = { quantity: f.quantity, size: f.size };
    const { release: _releasePhase, ...processTypes } = slug.processTypes;
    const hc = (
      slug.appJson?.healthchecks as { web?: { path?: string; timeout?: number }[] } | undefined
    )?.web?.find((h) => typeof h.path === 'string');
    return {
      release: rel.version,
      slug: { checksum: slug.checksum, size: slug.size, stack: slug.stack },
      env: rel.config,
      processTypes,
      formation,
      ...(hc?.path
        ? { healthcheck: { path: hc.path, ...(hc.timeout ? { timeoutMs: hc.timeout * 1000 } : {}) } }
        : {}),
    };
  }

  /**
   * Release phase, hooks, dynos. On failure the release is marked failed, the config goes back
   * to `restoreConfig` (the change did not happen) and the coded error is thrown.
   */
  private async goLive(
    app: AppRecord,
    rel: ReleaseRecord,
    restoreConfig?: Record<string, string>,
  ): Promise<ReleaseRecord> {
    const { state, kernel, dynos } = this.o;
    const previous = state.currentRelease(app.id);
    this.event(app.name, `Release v${rel.version} created: ${rel.description}`);
    const slug = rel.slug ? state.slug(rel.slug) : undefined;
    try {
      if (slug?.processTypes.release) await this.releasePhase(app, rel, slug, previous);
      const ev = { app: app.name, version: rel.version, description: rel.description };
      await kernel.hooks.beforeRelease.promise(ev);
      if (slug) await dynos.apply(app.name, this.target(app, rel, slug));
      const done = state.setReleaseStatus(app.id, rel.version, 'succeeded');
      this.event(app.name, `Release v${rel.version} is live`);
      kernel.hooks.afterRelease
        .promise(ev)
        .catch((e) => this.event(app.name, `afterRelease hook failed: ${(e as Error).message}`));
      return done;
    } catch (e) {
      const detail = isSlipwayError(e) ? e.message : (e as Error).message;
      state.transaction(() => {
        state.setReleaseStatus(app.id, rel.version, 'failed', detail);
        if (restoreConfig) state.replaceConfig(app.id, restoreConfig);
      });
      this.event(app.name, `Release v${rel.version} failed: ${detail}`);
      if (isSlipwayError(e) && e.code.startsWith('SLIPWAY_ERR_RUNTIME_')) throw e;
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_RELEASE_FAILED(
        {
          app: app.name,
          version: rel.version,
          detail,
          // The dyno manager's errors already say what keeps serving; say it once.
          serving: /keeps serving/.test(detail)
            ? ''
            : previous
              ? `; v${previous.version} keeps serving`
              : '; nothing was serving before',
        },
        { cause: e },
      );
    }
  }

  private async releasePhase(app: AppRecord, rel: ReleaseRecord, slug: SlugRecord, previous?: ReleaseRecord) {
    this.event(app.name, `Running release command for v${rel.version}`);
    const session = await this.o.dynos.runOnce(app.name, {
      app: app.name,
      release: rel.version,
      type: 'release',
      command: slug.processTypes.release as string,
      env: rel.config,
      size: { name: DEFAULT_SIZE, memoryMb: DYNO_SIZES[DEFAULT_SIZE] as number },
      slug: { checksum: slug.checksum, size: slug.size, stack: slug.stack },
      attach: false,
    });
    session.stdout.resume();
    session.stderr?.resume();
    const key = `${app.name}/${session.handle.type}.${session.handle.index}`;
    const output: PhaseOutput = { releaseId: rel.id, lines: [], bytes: 0, listeners: new Set() };
    this.phaseOutput.set(key, output);
    const timeout = this.o.releasePhaseTimeoutMs ?? 3_600_000;
    let timer: { cancel(): void } | undefined;
    const clock = this.o.kernel.tryResolve?.(clockRef) ?? systemClock;
    const code = await Promise.race([
      session.exited,
      new Promise<number>((resolve) => {
        timer = clock.setTimeout(() => {
          session.kill('SIGKILL');
          resolve(124);
        }, timeout);
      }),
    ]).finally(() => timer?.cancel());
    // The exit can be reported before the last lines are read: give them a moment to arrive.
    await new Promise((r) => setTimeout(r, 50));
    this.o.state.releaseOutputs.set(rel.id, output.lines.join('\n'));
    this.phaseOutput.delete(key);
    for (const fn of output.listeners) fn(null);
    if (code !== 0)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_RELEASE_PHASE({
        app: app.name,
        version: rel.version,
        code,
        previous: previous?.version ?? 0,
      });
  }
}
