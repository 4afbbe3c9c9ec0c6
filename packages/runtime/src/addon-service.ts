/**
 * Add-ons: provisioning goes through the kernel's `provision` / `deprovision` hooks (whatever
 * provider plugin is installed); the config vars a provider returns are set on the app, which
 * makes a release, like any config change.
 */
import { randomUUID } from 'node:crypto';
import type { Kernel } from '@slipway/core';
import { runtimeErrors } from './errors.js';
import type { ReleaseService } from './release-service.js';
import type { AddonRecord, AppRecord } from './state/records.js';
import type { SqliteStateStore } from './state/sqlite-state-store.js';

/** Attaches and detaches add-ons. */
export class AddonService {
  constructor(private readonly o: { state: SqliteStateStore; kernel: Kernel; releases: ReleaseService }) {}

  private known(): string {
    return [...this.o.kernel.catalog.addons.keys()].join(', ') || '(none installed)';
  }

  /** Provision `service[:plan]` for the app and set its config vars (one release). */
  async create(
    app: AppRecord,
    planSpec: string,
    as?: string,
    options: Record<string, unknown> = {},
  ): Promise<AddonRecord> {
    const [service, planName] = planSpec.split(':') as [string, string | undefined];
    const entry = this.o.kernel.catalog.addons.get(service);
    if (!entry)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON({
        service,
        detail: 'no such add-on service',
        known: this.known(),
      });
    const plan = planName ?? entry.plans.find((p) => p.default)?.name ?? entry.plans[0]?.name;
    if (!plan || !entry.plans.some((p) => p.name === plan))
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON({
        service,
        detail: `no plan ${planName} (plans: ${entry.plans.map((p) => p.name).join(', ')})`,
        known: this.known(),
      });
    const name = as ?? service.toUpperCase().replace(/-/g, '_');
    if (this.o.state.addons(app.id).some((a) => a.name === name))
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON({
        service,
        detail: `an add-on named ${name} is already attached`,
        known: this.known(),
      });
    const uuid = randomUUID();
    const result = await this.o.kernel.hooks.provision
      .for(service)
      .promise({ service, plan, uuid, app: app.name, name, options });
    if (!result)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ADDON({
        service,
        detail: 'no provider answered',
        known: this.known(),
      });
    const rec = this.o.state.addAddon({
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
  }

  /** Deprovision every add-on of an app that is being destroyed (no release: the app goes). */
  async deprovisionAll(app: AppRecord): Promise<string[]> {
    const failures: string[] = [];
    for (const rec of this.o.state.addons(app.id)) {
      try {
        await this.o.kernel.hooks.deprovision
          .for(rec.service)
          .promise({ service: rec.service, uuid: rec.id, id: rec.providerId, app: app.name });
        this.o.state.removeAddon(rec.id);
      } catch (e) {
        failures.push(`${rec.name}: ${(e as Error).message}`);
      }
    }
    return failures;
  }

  /** Deprovision an add-on and unset its config vars (one release). */
  async destroy(app: AppRecord, nameOrId: string): Promise<AddonRecord> {
    const rec = this.o.state.addons(app.id).find((a) => a.id === nameOrId || a.name === nameOrId);
    if (!rec)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
        what: `add-on ${nameOrId} of ${app.name}`,
        hint: `List them with \`slipway addons -a ${app.name}\`.`,
      });
    await this.o.kernel.hooks.deprovision
      .for(rec.service)
      .promise({ service: rec.service, uuid: rec.id, id: rec.providerId, app: app.name });
    this.o.state.removeAddon(rec.id);
    await this.o.releases.setConfig(app, Object.fromEntries(rec.configVars.map((k) => [k, null])));
    return rec;
  }
}
