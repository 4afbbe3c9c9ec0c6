/**
 * app.json setup: `apps:create --manifest` (POST /app-setups) applies its `env` (given values,
 * `value` defaults, `generator: "secret"`; required ones missing are refused by name),
 * `buildpacks`, `formation` and `addons`, all or nothing; a size or add-on plan this platform
 * does not have becomes the nearest one it has, with a warning, as Heroku's own names
 * (`heroku-postgresql:essential-0`, `Performance-M`) reach the providers' aliases. As on Heroku,
 * a `git push` never reads app.json. `scripts.postdeploy` then runs once as a one-off dyno after
 * the first release goes live. The pending script is kept in the plugin's `app_setups` table, so a
 * platform restart between setup and first release does not forget it; its exit status and
 * output are recorded there when it ends, as Heroku's app-setup `postdeploy` field holds them.
 */

import { randomBytes } from 'node:crypto';
import {
  type AppJson,
  attachmentName,
  isSlipwayError,
  type Kernel,
  type OneOffSession,
  parseAppJson,
  type ReleaseEvent,
  validateConfigVars,
} from '@slipway/core';
import type { AddonService } from '../addon-service.js';
import type { LogHub } from '../logs/log-hub.js';
import {
  DEFAULT_SIZE,
  DYNO_SIZES,
  type DynoManagerPort,
  MAX_QUANTITY,
  type ReleaseService,
} from '../release-service.js';
import { type AppStacks, requireStack } from '../stack/app-stacks.js';
import type { AppRecord } from '../state/records.js';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';
import type { AppSetupTable } from './app-setup-table.js';
import { appSetupErrors } from './errors.js';

/**
 * The platform's size for a Heroku dyno size it lacks: Private and Shield spaces' sizes are
 * Performance ones on isolated hardware; anything else unknown gets the default size.
 */
export function nearestSize(size: string): string {
  const key = size.toLowerCase();
  if (DYNO_SIZES[key]) return key;
  const performance = key.replace(/^(private|shield)-/, 'performance-');
  return DYNO_SIZES[performance] ? performance : DEFAULT_SIZE;
}

/** What app setup drives. */
export interface AppSetupOptions {
  state: SqliteStateStore;
  /** The plugin's `app_setups` table. */
  setups: AppSetupTable;
  addons: AddonService;
  releases: ReleaseService;
  dynos: Pick<DynoManagerPort, 'runOnce'>;
  kernel: Kernel;
  /** Where the detached postdeploy dyno's output lands; its tail is kept in the setup record. */
  logs: LogHub;
  /** Each app's stack: app.json `stack` sets it; absent = app.json's `stack` is ignored. */
  stacks?: AppStacks;
}

/** Heroku's stack names (`heroku-24`, `cedar-14`), which app.json files from Heroku carry. */
const HEROKU_STACK = /^(heroku|cedar)-\d+$/;

/** Lines of postdeploy output kept in the setup record. */
const POSTDEPLOY_OUTPUT_LINES = 200;

/** Result of a setup. */
export interface SetupResult {
  app: AppRecord;
  /** Names of config vars whose values were generated. */
  generated: string[];
  addons: string[];
  postdeploy?: string;
  /** What was taken as the nearest equivalent (`size Shield-L of web: using performance-l`). */
  warnings: string[];
}

/** Parse and validate a manifest given as text or as an object. */
export function readManifest(manifest: unknown): AppJson {
  try {
    return parseAppJson(typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  } catch (e) {
    throw appSetupErrors.SLIPWAY_ERR_APPSETUP_MANIFEST(
      { detail: isSlipwayError(e) ? e.message : (e as Error).message },
      { cause: e },
    );
  }
}

/** Config from app.json `env`: `given` wins, then `current`, `value`, a generated secret. */
export function resolveEnv(
  m: AppJson,
  given: Record<string, string>,
  current: Record<string, string> = {},
): { env: Record<string, string>; generated: string[] } {
  const env: Record<string, string> = { ...current, ...given };
  const generated: string[] = [];
  const missing: string[] = [];
  for (const [k, e] of Object.entries(m.env)) {
    if (k in env) continue;
    if (e.value !== undefined) env[k] = e.value;
    else if (e.generator === 'secret') {
      env[k] = randomBytes(32).toString('hex');
      generated.push(k);
    } else if (e.required) missing.push(k);
  }
  if (missing.length)
    throw appSetupErrors.SLIPWAY_ERR_APPSETUP_ENV_REQUIRED({
      keys: missing.join(', '),
      example: missing.map((k) => `${k}=…`).join(' --env '),
    });
  validateConfigVars(env);
  return { env, generated };
}

/** Applies app.json to new apps and runs their postdeploy script once. */
export class AppSetupService {
  constructor(private readonly o: AppSetupOptions) {
    // A script the last platform was running when it died is not run again: it may have acted.
    o.setups.failInterrupted();
    o.kernel.hooks.afterRelease.tapPromise('slipway-app-setup', (ev) => this.afterRelease(ev));
  }

  /** Create `name` (generated when absent) from a manifest: everything in it applies, or the app does not exist. */
  async create(
    name: string | undefined,
    manifest: unknown,
    given: Record<string, string> = {},
  ): Promise<SetupResult> {
    const m = readManifest(manifest);
    const { env, generated } = resolveEnv(m, given);
    // A Slipway stack that is unknown or not built refuses the setup before the app exists.
    if (m.stack && this.o.stacks && !HEROKU_STACK.test(m.stack)) await requireStack(m.stack);
    const app = this.o.state.createApp(name);
    try {
      const r = await this.apply(app, m, env);
      this.o.releases.event(app.name, 'App created from app.json');
      return { ...r, generated };
    } catch (e) {
      this.o.state.deleteApp(app.name);
      throw e;
    }
  }

  /** Apply a validated manifest; on failure undo what was done and throw. */
  private async apply(
    app: AppRecord,
    m: AppJson,
    env: Record<string, string>,
    restoreConfig?: Record<string, string>,
  ): Promise<Omit<SetupResult, 'generated'>> {
    const { state, addons, setups } = this.o;
    const created: string[] = [];
    const warnings: string[] = [];
    let step = 'env';
    try {
      state.replaceConfig(app.id, env);
      step = 'stack';
      const stacks = this.o.stacks;
      // Heroku's own stack names (heroku-24) mean "the current stack": the platform's default here.
      if (m.stack && stacks && HEROKU_STACK.test(m.stack))
        warnings.push(`stack ${m.stack} is Heroku's: using ${stacks.defaultStack}`);
      else if (m.stack && stacks) await stacks.set(app.id, m.stack);
      step = 'buildpacks';
      if (m.buildpacks.length) state.updateApp(app.name, { buildpacks: m.buildpacks.map((b) => b.url) });
      step = 'formation';
      const updates = Object.entries(m.formation).map(([type, f]) => ({
        type,
        quantity: f.quantity,
        ...(f.size ? { size: f.size.toLowerCase() } : {}),
      }));
      // No slug yet, so no process types to check against (ps:scale would refuse): the
      // formation is stored and applies to the first release that has these types.
      for (const u of updates) {
        if (!/^[a-z][a-z0-9_-]{0,29}$/.test(u.type)) throw new Error(`process type ${u.type} is invalid`);
        if (!Number.isInteger(u.quantity) || u.quantity < 0 || u.quantity > MAX_QUANTITY)
          throw new Error(`quantity ${u.quantity} of ${u.type} is out of range (0–${MAX_QUANTITY})`);
        if (u.size && !DYNO_SIZES[u.size]) {
          const near = nearestSize(u.size);
          warnings.push(`size ${u.size} of ${u.type} is not offered here: using ${near}`);
          u.size = near;
        }
      }
      if (updates.length) state.setFormation(app.id, updates, DEFAULT_SIZE);
      for (const a of m.addons) {
        step = `addon ${a.plan}`;
        const resolved = addons.resolve(a.plan, { nearest: true });
        if (resolved.fallback) warnings.push(`add-on ${a.plan}: ${resolved.fallback}`);
        const attached = state.addons(app.id).map((x) => x.name);
        if (attached.includes(attachmentName(resolved.service, a.as))) continue;
        created.push((await addons.create(state.app(app.id), a.plan, a.as, a.options, resolved)).id);
      }
      for (const w of warnings) this.o.releases.event(app.name, `app.json: ${w}`);
      if (m.scripts.postdeploy) setups.setPostdeploy(app.id, m.scripts.postdeploy);
      return {
        app: state.app(app.id),
        addons: created,
        warnings,
        ...(m.scripts.postdeploy ? { postdeploy: m.scripts.postdeploy } : {}),
      };
    } catch (e) {
      for (const id of created.reverse()) await addons.destroy(state.app(app.id), id).catch(() => {});
      if (restoreConfig) state.replaceConfig(app.id, restoreConfig);
      throw appSetupErrors.SLIPWAY_ERR_APPSETUP_FAILED(
        { app: app.name, step, detail: isSlipwayError(e) ? e.message : (e as Error).message },
        { cause: e },
      );
    }
  }

  private async afterRelease(ev: ReleaseEvent): Promise<void> {
    const { state, dynos, releases, logs, setups } = this.o;
    const app = state.findApp(ev.app);
    if (!app || !setups.pending(app.id)) return;
    const rel = state.release(app.id, ev.version);
    const slug = rel?.slug ? state.slug(rel.slug) : undefined;
    if (!rel || !slug) return; // a config-only release: wait for the one with code
    // Claimed in one UPDATE before it starts: two releases in a row cannot both run it.
    const command = setups.claim(app.id);
    if (!command) return;
    releases.event(ev.app, `Running postdeploy script \`${command}\``);
    let session: OneOffSession;
    try {
      session = await dynos.runOnce(ev.app, {
        app: ev.app,
        release: rel.version,
        type: 'postdeploy',
        command,
        env: rel.config,
        size: { name: DEFAULT_SIZE, memoryMb: DYNO_SIZES[DEFAULT_SIZE] as number },
        slug: { checksum: slug.checksum, size: slug.size, stack: slug.stack },
        attach: false,
      });
    } catch (e) {
      setups.finish(app.id, null, `could not start: ${(e as Error).message}`);
      throw e;
    }
    session.stdout.resume();
    session.stderr?.resume();
    const code = await session.exited;
    const dyno = `${session.handle.type}.${session.handle.index}`;
    const output = logs
      .recent(ev.app, { source: 'app', dyno, n: POSTDEPLOY_OUTPUT_LINES })
      .map((l) => l.message)
      .join('\n');
    setups.finish(app.id, code, output);
    releases.event(ev.app, `Postdeploy script exited with status ${code}`);
  }
}
