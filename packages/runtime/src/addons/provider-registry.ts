/**
 * Remote add-on providers registered at run time (`POST /addon-providers`, `slipway
 * addons:providers:add`): partner-API providers from their manifest and Open Service Brokers.
 * Each is kept in the state (so it is back after a restart) and applied to a kernel of its own;
 * the platform's kernel gets its services in the catalogue and one delegating tap per service
 * and hook, so a provider can also be removed again (tapable taps cannot be taken back).
 * A service name another provider already offers is refused: the first provider keeps it.
 */
import { type AddonManifest, osbBroker, remoteAddon } from '@slipway/addon-sdk';
import { type AddonEntry, Kernel, type Plugin } from '@slipway/core';
import { firstLine } from '../addon-service.js';
import { runtimeErrors } from '../errors.js';
import type { ProviderRow } from '../state/provider-table.js';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';
import type { OsbBrokerConfig } from './remote-providers.js';

/** A partner-API provider as the API takes it: the manifest itself, its URL and password. */
export interface PartnerProviderInput {
  kind: 'partner';
  manifest: AddonManifest;
  url?: string;
  password?: string;
}

/** An Open Service Broker as the API takes it. */
export type OsbProviderInput = { kind: 'osb' } & OsbBrokerConfig;

/** What `POST /addon-providers` takes. */
export type ProviderInput = PartnerProviderInput | OsbProviderInput;

/** A provider as listed: where it came from and which services it offers. */
export interface ProviderView {
  name: string;
  kind: 'plugin' | 'partner' | 'osb';
  /** `api` for providers registered at run time (removable), `platform` for the rest. */
  source: 'api' | 'platform';
  services: string[];
  url?: string;
  created_at?: string;
}

const TAP = 'addon-providers';

/** The name a provider is registered under: the manifest id, or the broker's name (its host). */
export function providerName(input: ProviderInput): string {
  return input.kind === 'partner' ? input.manifest.id : (input.name ?? new URL(input.url).host);
}

function pluginFor(input: ProviderInput): Plugin<unknown> {
  if (input.kind === 'partner')
    return remoteAddon({
      manifest: input.manifest,
      ...(input.url ? { url: input.url } : {}),
      ...(input.password ? { password: input.password } : {}),
    });
  const { kind: _kind, ...broker } = input;
  return osbBroker(broker);
}

interface Live {
  row: ProviderRow;
  kernel: Kernel;
  services: string[];
}

/** The run-time registry of remote providers. */
export class ProviderRegistry {
  private readonly live = new Map<string, Live>();
  /** Services whose delegating taps are on the platform's kernel (once each). */
  private readonly tapped = new Set<string>();

  constructor(private readonly o: { kernel: Kernel; state: SqliteStateStore }) {}

  /** Register the providers kept in the state; returns those that could not be (reported, kept). */
  async restore(): Promise<string[]> {
    const failed: string[] = [];
    for (const row of this.o.state.providers.list()) {
      try {
        await this.register(row);
      } catch (e) {
        failed.push(`add-on provider ${row.name} (registered with addons:providers:add): ${firstLine(e)}`);
      }
    }
    return failed;
  }

  /** Register a new provider and keep it in the state. */
  async add(input: ProviderInput): Promise<ProviderView> {
    const name = providerName(input);
    if (this.live.has(name) || this.o.state.providers.get(name))
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_PROVIDER({
        name,
        detail: 'a provider of that name is already registered',
        hint: `Remove it first with \`slipway addons:providers:remove ${name}\`.`,
      });
    const row: ProviderRow = { name, kind: input.kind, config: input, createdAt: new Date().toISOString() };
    await this.register(row);
    this.o.state.providers.put(row);
    return this.view(this.live.get(name) as Live);
  }

  /** Unregister a provider; refused while an app still has one of its add-ons. */
  async remove(name: string): Promise<ProviderView> {
    const live = this.live.get(name);
    if (!live && !this.o.state.providers.get(name))
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_PROVIDER({
        name,
        detail: 'no provider of that name was registered through the API',
        hint: 'See them with `slipway addons:providers`; providers of the platform config are changed there.',
      });
    const services = live?.services ?? [];
    const attached = this.o.state
      .listApps()
      .flatMap((a) => this.o.state.addons(a.id).map((x) => ({ app: a.name, ...x })))
      .filter((x) => services.includes(x.service));
    if (attached.length)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_PROVIDER({
        name,
        detail: `apps still have its add-ons: ${attached.map((x) => `${x.name} on ${x.app}`).join(', ')}`,
        hint: 'Destroy them first (`slipway addons:destroy NAME -a APP`): their data lives with the provider.',
      });
    for (const s of services) this.o.kernel.catalog.addons.delete(s);
    this.live.delete(name);
    this.o.state.providers.remove(name);
    await live?.kernel.close().catch(() => {});
    return live ? this.view(live) : { name, kind: 'partner', source: 'api', services: [] };
  }

  /** Every provider: the platform's plugins and config ones, then those registered at run time. */
  list(): ProviderView[] {
    const byPlugin = new Map<string, string[]>();
    for (const e of this.o.kernel.catalog.addons.values())
      if (!this.live.has(e.plugin)) byPlugin.set(e.plugin, [...(byPlugin.get(e.plugin) ?? []), e.service]);
    const platform: ProviderView[] = [...byPlugin].map(([name, services]) => ({
      name,
      kind: name.startsWith('remote-addon-') ? 'partner' : name.startsWith('osb-broker-') ? 'osb' : 'plugin',
      source: 'platform',
      services,
    }));
    return [...platform, ...[...this.live.values()].map((l) => this.view(l))];
  }

  /** Stop every registered provider (their callback listeners). */
  async close(): Promise<void> {
    await Promise.all([...this.live.values()].map((l) => l.kernel.close().catch(() => {})));
  }

  private view(l: Live): ProviderView {
    const { url } = l.row.config;
    return {
      name: l.row.name,
      kind: l.row.kind,
      source: 'api',
      services: l.services,
      ...(url ? { url } : {}),
      created_at: l.row.createdAt,
    };
  }

  /** Apply the provider to a kernel of its own, then offer its services on the platform's. */
  private async register(row: ProviderRow): Promise<void> {
    const own = new Kernel();
    try {
      await own.use(pluginFor(row.config));
    } catch (e) {
      await own.close().catch(() => {});
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_PROVIDER(
        {
          name: row.name,
          detail: firstLine(e),
          hint: 'Check the manifest or broker URL and the credentials.',
        },
        { cause: e },
      );
    }
    const entries = [...own.catalog.addons.values()];
    const taken = entries.find((e) => this.o.kernel.catalog.addons.has(e.service));
    if (taken || !entries.length) {
      await own.close().catch(() => {});
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_PROVIDER({
        name: row.name,
        detail: taken
          ? `its service ${taken.service} is already offered by ${this.o.kernel.catalog.addons.get(taken.service)?.plugin}`
          : 'it offers no service',
        hint: taken ? 'Give the provider another add-on id.' : 'Check its catalog.',
      });
    }
    this.live.set(row.name, { row, kernel: own, services: entries.map((e) => e.service) });
    for (const e of entries) this.offer(e, row.name);
  }

  /** The kernel of the live provider offering `service`, if any. */
  private ownerOf(service: string): Kernel | undefined {
    for (const l of this.live.values()) if (l.services.includes(service)) return l.kernel;
    return undefined;
  }

  private offer(entry: AddonEntry, provider: string): void {
    const { service } = entry;
    this.o.kernel.catalog.addons.set(service, { ...entry, plugin: provider });
    if (this.tapped.has(service)) return;
    this.tapped.add(service);
    // The taps look the owner up at each call: a removed provider answers nothing.
    const k = this.o.kernel.hooks;
    k.provision
      .for(service)
      .tapPromise(TAP, async (req) => this.ownerOf(service)?.hooks.provision.for(service).promise(req));
    k.planChange
      .for(service)
      .tapPromise(TAP, async (req) => this.ownerOf(service)?.hooks.planChange.for(service).promise(req));
    k.deprovision.for(service).tapPromise(TAP, async (req) => {
      await this.ownerOf(service)?.hooks.deprovision.for(service).promise(req);
    });
  }
}
