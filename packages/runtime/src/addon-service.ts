/**
 * Add-ons: provisioning goes through the kernel's `provision` / `planChange` / `deprovision`
 * hooks (whatever provider plugin is installed); the config vars a provider returns are set on
 * the app, which makes a release, like any config change. A provision either completes (record
 * + release) or leaves nothing: a provider that fails or outlives the timeout gets its resource
 * deprovisioned, and no config var reaches a release.
 */
import { randomUUID } from 'node:crypto';
import {
  attachmentName,
  clockRef,
  defaultAddonPlan,
  type Kernel,
  matchAddonSpec,
  type ProvisionResult,
  systemClock,
} from '@slipway/core';
import { runtimeErrors } from './errors.js';
import type { ReleaseService } from './release-service.js';
import type { AddonRecord, AppRecord } from './state/records.js';
import type { SqliteStateStore } from './state/sqlite-state-store.js';

/** Default limit on one provider call; a remote provider's own limit (25 s) is shorter. */
export const PROVIDER_TIMEOUT_MS = 120_000;

/** The first line of an error's message. */
export const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0] as string;

/** A `service[:plan]` as the catalogue understood it. */
export interface ResolvedPlan {
  service: string;
  plan: string;
  /** How it was understood (`heroku-postgresql → postgres`), and the fallback if any. */
  notes: string[];
  /** Set when the plan was unknown and the default one was taken instead (`nearest`). */
  fallback?: string;
}

/** Attaches, changes and detaches add-ons. */
export class AddonService {
  private readonly timeoutMs: number;

  constructor(
    private readonly o: {
      state: SqliteStateStore;
      kernel: Kernel;
      releases: ReleaseService;
      /** Limit on one provision / plan change / deprovision call; default 120 s. */
      providerTimeoutMs?: number;
    },
  ) {
    this.timeoutMs = o.providerTimeoutMs ?? PROVIDER_TIMEOUT_MS;
  }

  /** The add-on error's hint: the installed services, and a real plan of `service` (or of the first). */
  private hint(service: string): { known: string; example: string } {
    const { addons } = this.o.kernel.catalog;
    const entry = addons.get(service) ?? addons.values().next().value;
    const plan = entry && (entry.plans.find((p) => !p.default) ?? entry.plans[0]);
    return {
      known: [...addons.keys()].join(', ') || '(none installed)',
      example: entry && plan ? `${entry.service}:${plan.name}` : 'SERVICE:PLAN',
    };
  }

  private provider(service: string): string {
    return this.o.kernel.catalog.addons.get(service)?.plugin ?? service;
  }

  /** Run a provider call under the timeout; failures become one coded error naming the provider. */
  private async call<T>(service: string, action: string, run: () => Promise<T>, late?: (v: T) => void) {
    let timer: { cancel(): void } | undefined;
    let timedOut = false;
    const work = run();
    const clock = this.o.kernel.tryResolve?.(clockRef) ?? systemClock;
    const timeout = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(() => {
        timedOut = true;
        const t = this.timeoutMs;
        reject(new Error(`no answer within ${t >= 1000 ? `${Math.round(t / 1000)} s` : `${t} ms`}`));
      }, this.timeoutMs);
    });
    // A provider that answers after we gave up must not keep what it made.
    work.then((v) => timedOut && late?.(v)).catch(() => {});
    try {
      return await Promise.race([work, timeout]);
    } catch (e) {
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON_PROVIDER(
        { provider: this.provider(service), action, service, detail: firstLine(e) },
        { cause: e },
      );
    } finally {
      timer?.cancel();
    }
  }

  /** Ask the provider to destroy `rec` (within the provider timeout). */
  private deprovision(app: AppRecord, rec: AddonRecord): Promise<void> {
    return this.call(rec.service, 'deprovision', () =>
      this.o.kernel.hooks.deprovision.for(rec.service).promise({
        service: rec.service,
        uuid: rec.id,
        id: rec.providerId,
        app: app.name,
        name: rec.name,
        plan: rec.plan,
      }),
    );
  }

  private deprovisionQuietly(service: string, uuid: string, id: string, app: string): Promise<void> {
    return this.o.kernel.hooks.deprovision
      .for(service)
      .promise({ service, uuid, id, app })
      .catch(() => {});
  }

  /**
   * Split `service[:plan]` and check both against the catalogue, through the aliases providers
   * declare (`heroku-postgresql:essential-0` → `postgres:shared`). An unknown plan is an error,
   * or with `nearest` (app setups) the service's default plan and a note saying so (also as
   * `fallback`, the warning of an app setup).
   */
  resolve(planSpec: string, opts: { nearest?: boolean } = {}): ResolvedPlan {
    const m = matchAddonSpec(this.o.kernel.catalog.addons.values(), planSpec);
    const service = planSpec.split(':')[0] as string;
    if (!m)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON({
        service,
        detail: 'no such add-on service',
        ...this.hint(service),
      });
    const notes = [...m.via];
    if (m.plan) return { service: m.entry.service, plan: m.plan, notes };
    const fallback = defaultAddonPlan(m.entry)?.name;
    if (!opts.nearest || !fallback)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON({
        service,
        detail: `no plan ${m.asked} (plans: ${m.entry.plans.map((p) => p.name).join(', ')})`,
        ...this.hint(m.entry.service),
      });
    const note = `plan ${m.asked} is unknown to ${m.entry.service}: using its default plan ${fallback} instead`;
    return { service: m.entry.service, plan: fallback, notes: [...notes, note], fallback: note };
  }

  /** The attachment `nameOrId` of the app, or a clear "not attached" error. */
  find(app: AppRecord, nameOrId: string): AddonRecord {
    const rec = this.o.state.addons(app.id).find((a) => a.id === nameOrId || a.name === nameOrId);
    if (!rec) throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON_GONE({ name: nameOrId, app: app.name });
    return rec;
  }

  /** Provision `service[:plan]` for the app and set its config vars (one release). */
  async create(
    app: AppRecord,
    planSpec: string,
    as?: string,
    options: Record<string, unknown> = {},
    resolved: ResolvedPlan = this.resolve(planSpec),
  ): Promise<AddonRecord> {
    const { service, plan, notes } = resolved;
    // Say how a Heroku name was understood: `heroku-postgresql → postgres, essential-0 → shared`.
    if (notes.length) this.o.releases.event(app.name, `Add-on ${planSpec}: ${notes.join(', ')}`);
    const name = attachmentName(service, as);
    if (this.o.state.addons(app.id).some((a) => a.name === name))
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON({
        service,
        detail: `an add-on named ${name} is already attached`,
        ...this.hint(service),
      });
    const uuid = randomUUID();
    const result = (await this.call(
      service,
      'provision',
      () =>
        this.o.kernel.hooks.provision
          .for(service)
          .promise({ service, plan, uuid, app: app.name, name, options }),
      (late) => late && void this.deprovisionQuietly(service, uuid, late.id, app.name),
    )) as ProvisionResult | undefined;
    if (!result)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON({
        service,
        detail: 'no provider answered',
        ...this.hint(service),
      });
    let rec: AddonRecord | undefined;
    try {
      rec = this.o.state.addAddon({
        id: uuid,
        appId: app.id,
        service,
        plan,
        name,
        providerId: result.id,
        configVars: Object.keys(result.config),
      });
      await this.o.releases.setConfig(app, result.config);
      return rec;
    } catch (e) {
      // The release did not happen: take back the record and the provider's resource.
      if (rec) this.o.state.removeAddon(rec.id);
      await this.deprovisionQuietly(service, uuid, result.id, app.name);
      throw e;
    }
  }

  /** Move an add-on to another plan of its service; new config vars make one release. */
  async upgrade(app: AppRecord, nameOrId: string, planSpec: string): Promise<AddonRecord> {
    const rec = this.find(app, nameOrId);
    if (rec.ownerId)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON_ATTACHMENT({
        name: rec.name,
        detail: `its plan belongs to ${this.ownerApp(rec)}, which owns the add-on`,
        fix: `Change the plan on that app: \`slipway addons:upgrade NAME PLAN -a ${this.ownerApp(rec)}\`.`,
      });
    const { service, plan } = this.resolve(planSpec.includes(':') ? planSpec : `${rec.service}:${planSpec}`);
    if (service !== rec.service)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON({
        service,
        detail: `${rec.name} is a ${rec.service} add-on; a plan change stays within its service`,
        ...this.hint(service),
      });
    if (plan === rec.plan) return rec;
    const result = await this.call(service, 'change the plan of', () =>
      this.o.kernel.hooks.planChange.for(service).promise({
        service,
        plan,
        previousPlan: rec.plan,
        uuid: rec.id,
        id: rec.providerId,
        app: app.name,
        name: rec.name,
      }),
    );
    const configVars = result?.config ? Object.keys(result.config) : rec.configVars;
    this.o.state.updateAddon(rec.id, { plan, configVars });
    if (result?.config && Object.keys(result.config).length)
      await this.o.releases.setConfig(app, result.config);
    return { ...rec, plan, configVars };
  }

  /** Deprovision every add-on of an app that is being destroyed (no release: the app goes). */
  async deprovisionAll(app: AppRecord): Promise<string[]> {
    const failures: string[] = [];
    for (const rec of this.o.state.addons(app.id)) {
      try {
        // Another app's add-on attached here stays with its owner; only the attachment goes.
        if (!rec.ownerId) {
          await this.detachAll(rec);
          await this.deprovision(app, rec);
        }
        this.o.state.removeAddon(rec.id);
      } catch (e) {
        failures.push(`${rec.name}: ${(e as Error).message}`);
      }
    }
    return failures;
  }

  /** Deprovision an add-on (detaching it from every app it is attached to) and unset its config vars. */
  async destroy(app: AppRecord, nameOrId: string): Promise<AddonRecord> {
    const rec = this.find(app, nameOrId);
    if (rec.ownerId)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON_ATTACHMENT({
        name: rec.name,
        detail: `it is attached from ${this.ownerApp(rec)}, which owns the add-on`,
        fix: `Detach it with \`slipway addons:detach ${rec.name} -a ${app.name}\`.`,
      });
    await this.detachAll(rec);
    await this.deprovision(app, rec);
    this.o.state.removeAddon(rec.id);
    await this.unsetVars(app, rec);
    return rec;
  }

  /**
   * Attach another app's add-on (`OWNER::NAME` or its id) to `app` as `as` (default its name):
   * the owner's config vars, renamed to the new prefix, in one release of `app`.
   */
  async attach(
    app: AppRecord,
    addon: string,
    as?: string,
    mayUse?: (ownerApp: AppRecord) => void,
  ): Promise<AddonRecord> {
    const owner = this.owning(addon, mayUse);
    if (owner.appId === app.id)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON_ATTACHMENT({
        name: addon,
        detail: `it already belongs to ${app.name}`,
        fix: 'Attach it to another app with -a OTHER_APP.',
      });
    // A name that is no config var prefix is refused by attachmentName (coded, 422).
    const name = attachmentName(owner.name, as);
    if (this.o.state.addons(app.id).some((a) => a.name === name))
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON_ATTACHMENT({
        name,
        detail: `${app.name} already has an attachment named ${name}`,
        fix: 'Choose another name with --as NAME (capitals, digits and _).',
      });
    const from = this.o.state.config(owner.appId);
    const mine = this.o.state.config(app.id);
    const config: Record<string, string> = {};
    for (const k of owner.configVars) {
      const value = from[k];
      if (value === undefined) continue;
      // OWNER_URL → NAME_URL; an alias such as DATABASE_URL only where the app has none yet.
      if (k.startsWith(`${owner.name}_`)) config[`${name}_${k.slice(owner.name.length + 1)}`] = value;
      else if (!(k in mine)) config[k] = value;
    }
    const rec = this.o.state.addAddon({
      id: randomUUID(),
      appId: app.id,
      service: owner.service,
      plan: owner.plan,
      name,
      providerId: owner.providerId,
      configVars: Object.keys(config),
      ownerId: owner.id,
    });
    try {
      await this.o.releases.setConfig(app, config);
    } catch (e) {
      this.o.state.removeAddon(rec.id);
      throw e;
    }
    return rec;
  }

  /** Remove an attachment of another app's add-on from `app` (its config vars go, in one release). */
  async detach(app: AppRecord, nameOrId: string): Promise<AddonRecord> {
    const rec = this.find(app, nameOrId);
    if (!rec.ownerId)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON_ATTACHMENT({
        name: rec.name,
        detail: `it is ${app.name}'s own add-on, not an attachment`,
        fix: `Destroy it with \`slipway addons:destroy ${rec.name} -a ${app.name}\` (this deletes its data).`,
      });
    this.o.state.removeAddon(rec.id);
    await this.unsetVars(app, rec);
    return rec;
  }

  /**
   * The add-on row that owns `spec` (`APP::NAME`, or an id), following an attachment to its owner.
   * `mayUse` sees the owning app first (it may refuse: the add-on's credentials are that app's).
   */
  private owning(spec: string, mayUse?: (ownerApp: AppRecord) => void): AddonRecord {
    const [appName, name] = spec.includes('::') ? spec.split('::') : [undefined, spec];
    let found: AddonRecord | undefined;
    if (appName) {
      const ownerApp = this.o.state.app(appName);
      mayUse?.(ownerApp);
      found = this.o.state.addons(ownerApp.id).find((a) => a.name === name);
    } else {
      found = this.o.state.addon(spec);
      const ownerApp = found && this.o.state.findApp(found.appId);
      if (ownerApp) mayUse?.(ownerApp);
    }
    if (!found)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON_ATTACHMENT({
        name: spec,
        detail: 'no such add-on',
        fix: 'Name it as OWNER_APP::ATTACHMENT (e.g. billing::DATABASE) or by its id (`slipway addons -a OWNER_APP --json`).',
      });
    return found.ownerId ? (this.o.state.addon(found.ownerId) ?? found) : found;
  }

  private ownerApp(rec: AddonRecord): string {
    const owner = rec.ownerId ? this.o.state.addon(rec.ownerId) : undefined;
    return owner ? (this.o.state.findApp(owner.appId)?.name ?? 'another app') : 'another app';
  }

  /** Detach every attachment of `owner` from the other apps (each loses the config vars). */
  private async detachAll(owner: AddonRecord): Promise<void> {
    for (const att of this.o.state.attachmentsOf(owner.id)) {
      this.o.state.removeAddon(att.id);
      const other = this.o.state.findApp(att.appId);
      if (other) await this.unsetVars(other, att);
    }
  }

  /** Unset the vars `rec` set; an alias another attachment also sets (DATABASE_URL) stays. */
  private async unsetVars(app: AppRecord, rec: AddonRecord): Promise<void> {
    const still = new Set(this.o.state.addons(app.id).flatMap((a) => a.configVars));
    const unset = rec.configVars.filter((k) => !still.has(k));
    if (unset.length) await this.o.releases.setConfig(app, Object.fromEntries(unset.map((k) => [k, null])));
  }
}
