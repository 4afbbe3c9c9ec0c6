/**
 * The control plane of the HAProxy data plane: it reads the platform's route table, works out
 * what HAProxy should hold (a slot backend per app, a server per web dyno, the host and state
 * maps) and applies the difference live over the stats socket. A removed dyno is disabled
 * first (no new requests), then deleted once its in-flight requests are done (draining).
 */

import type { KernelHooks } from '@slipway/core';
import { routerErrors } from '../errors.js';
import type { MaintenanceState } from '../maintenance-plugin.js';
import { usableRules } from '../route-rules.js';
import {
  type AppRules,
  type CompiledRules,
  compileRouteRules,
  type RuleShape,
} from '../route-rules-compile.js';
import { RuleMaps } from '../route-rules-haproxy.js';
import type { AppRoute, RouteTable, RouteTarget } from '../route-table.js';
import { haproxyFiles, type StateCode, slotName } from './haproxy-config.js';
import type { StatsSocket } from './stats-socket.js';

/** What the HAProxy data plane needs beyond lookups: every app and custom domain (it pushes, it cannot ask per request). */
export interface RouteListing {
  /** Every app the platform knows. */
  apps(): Iterable<string>;
  /** Every custom domain as [host, app]. */
  domains(): Iterable<readonly [string, string]>;
}

interface Server {
  name: string;
  target: RouteTarget;
  /** Set once disabled: when the drain ends and the server is cut. */
  drainUntil?: number;
}

interface Slot {
  index: number;
  app: string | undefined;
  /** Servers taking requests, by dyno address. */
  servers: Map<string, Server>;
  /** Disabled servers finishing their requests before deletion. */
  draining: Server[];
}

const key = (t: RouteTarget): string => `${t.host}:${t.port}`;

/** Heroku's code for an app that cannot take requests now, or 'ok'. */
export function stateCode(route: AppRoute | undefined, maintenance: boolean): StateCode | 'ok' {
  if (maintenance) return 'H80';
  if (route === undefined) return 'H81';
  switch (route.state) {
    case 'no-release':
      return 'H81';
    case 'no-web':
      return 'H14';
    case 'crashed':
      return 'H10';
    case 'booting':
      return 'H20';
    default:
      return route.targets.length === 0 ? 'H14' : 'ok';
  }
}

/** What a starting haproxy reads from files: map contents by file, `server` lines by slot. */
export interface StartState {
  maps: ReadonlyMap<string, readonly string[]>;
  servers: ReadonlyMap<number, readonly string[]>;
  /** Shape of the rule block the maps are for (none: no rules). */
  shape?: RuleShape;
}

/** Options of the control plane. */
export interface ControlPlaneOptions {
  table: RouteTable & RouteListing;
  baseDomain: string;
  slots: number;
  maintenance?: MaintenanceState | undefined;
  /** A removed dyno's in-flight requests get this long (ms) before they are cut. */
  drainMs: number;
  /** Quarantine of a dyno that refused a connection (ms): its health check interval. */
  quarantineMs: number;
  /** The kernel's `routeRules` hook, compiled into the rule maps on every sync. */
  rules?: KernelHooks['routeRules'] | undefined;
  /** Told about rules that cannot be used. */
  onError?: (e: unknown) => void;
  /** Requests sent to one dyno at once (`maxconn`); more wait in the app's backlog. */
  inFlightPerDyno: number;
}

/** Applies the route table to one running HAProxy; a new HAProxy (reload) gets a new one. */
export class ControlPlane {
  private readonly slots: Slot[];
  private readonly appSlot = new Map<string, Slot>();
  private hostsMap = '';
  private statesMap = '';
  private serial = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly ruleMaps: RuleMaps;
  /** The rules compiled at the last sync (their shape decides whether a reload is due). */
  compiled: CompiledRules | undefined;
  /** Key of the running configuration's rule block shape, set by `prime` (another one needs a reload). */
  ruleShapeKey: string | undefined;
  /** Slots the previous haproxy served apps from (new apps get other ones first). */
  private readonly previousSlots = new Set<number>();
  /** Rules were applied to this haproxy's maps (a new one has none until then). */
  private rulesHeld = false;

  constructor(
    private readonly socket: StatsSocket,
    private readonly dir: string,
    private readonly o: ControlPlaneOptions,
  ) {
    this.slots = Array.from({ length: o.slots }, (_, index) => ({
      index,
      app: undefined,
      servers: new Map(),
      draining: [],
    }));
    this.ruleMaps = new RuleMaps(socket, dir, o.onError ?? (() => undefined));
  }

  /** App served by slot backend `name` (for the log sink). */
  appOfSlot(name: string): string | undefined {
    const i = Number(name.slice(4));
    return name.startsWith('slot') ? this.slots[i]?.app : undefined;
  }

  /** Requests in `app`'s backlog now (HAProxy's queue of its slot backend). */
  async backlog(app: string): Promise<number> {
    const slot = this.appSlot.get(app);
    if (slot === undefined) return 0;
    // `show stat <proxy> 2 -1`: the backend's own line; its third CSV field is qcur.
    const csv = await this.socket.run(`show stat ${slotName(slot.index)} 2 -1`);
    const row = csv.split('\n').find((l) => l.startsWith(`${slotName(slot.index)},BACKEND,`));
    return Number(row?.split(',')[2]) || 0;
  }

  /** Apply the table now; calls made while one runs are folded into one more run. */
  sync(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.apply();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** What HAProxy should hold: each app's slot and dynos, the host and state maps, the rules' hosts. */
  private plan(assign: (app: string) => Slot | undefined = (a) => this.slotFor(a)) {
    const { table, baseDomain, maintenance } = this.o;
    const apps = new Set(table.apps());
    const hosts: string[] = [];
    const states: string[] = [];
    const targets = new Map<Slot, readonly RouteTarget[]>();
    for (const app of apps) {
      const slot = assign(app);
      if (!slot) continue;
      const route = table.route(app);
      const state = stateCode(route, maintenance?.isInMaintenance(app) ?? false);
      hosts.push(`${app}.${baseDomain} ${slotName(slot.index)}`);
      if (state !== 'ok') states.push(`${slotName(slot.index)} ${state}`);
      targets.set(slot, route?.targets ?? []);
    }
    const appHosts = new Map<string, string[]>(
      [...apps].filter((a) => this.appSlot.has(a)).map((a) => [a, [`${a}.${baseDomain}`]]),
    );
    for (const [host, app] of table.domains()) {
      const slot = this.appSlot.get(app);
      if (slot && /^[a-z0-9.*-]+$/.test(host)) {
        hosts.push(`${host} ${slotName(slot.index)}`);
        appHosts.get(app)?.push(host);
      }
    }
    return { apps, hosts: hosts.sort(), states: states.sort(), targets, appHosts };
  }

  /**
   * Take the whole state for a haproxy about to start, as files it reads at start: the maps'
   * contents and each slot's dynos as `server` lines. From its first request it serves what
   * the old one served (a reload used to start with empty maps and no dynos, 404 until the
   * first sync ended). Apps keep the slots `previous` gave them: the old haproxy's last log
   * lines name its slots. Everything returned counts as applied.
   */
  prime(previous?: ControlPlane): StartState {
    const apps = new Set(this.o.table.apps());
    for (const slot of previous?.slots ?? [])
      if (slot.app !== undefined || slot.draining.length > 0) this.previousSlots.add(slot.index);
    for (const [app, old] of previous?.appSlot ?? [])
      if (apps.has(app)) {
        const slot = this.slots[old.index];
        if (slot && slot.app === undefined) {
          slot.app = app;
          this.appSlot.set(app, slot);
        }
      }
    const plan = this.plan((app) => {
      try {
        return this.slotFor(app);
      } catch (e) {
        // The other apps still start; the next syncs report it again.
        this.o.onError?.(e);
        return undefined;
      }
    });
    const servers = new Map<number, string[]>();
    for (const [slot, targets] of plan.targets)
      servers.set(
        slot.index,
        targets.map((t) => {
          const name = this.serverName(t);
          slot.servers.set(key(t), { name, target: t });
          // A name that does not resolve disables its server, rather than stop haproxy starting.
          return `server ${name} ${t.host}:${t.port} init-addr libc,none ${this.serverOptions()}`;
        }),
      );
    const files = haproxyFiles(this.dir);
    const maps = new Map<string, readonly string[]>([[files.states, plan.states]]);
    this.statesMap = plan.states.join('\n');
    this.compiled = this.compileRules(plan.appHosts);
    if (this.compiled) {
      this.ruleShapeKey = this.compiled.shapeKey;
      for (const [file, lines] of this.ruleMaps.prime(this.compiled)) maps.set(file, lines);
      this.rulesHeld = true;
    }
    maps.set(files.hosts, plan.hosts);
    this.hostsMap = plan.hosts.join('\n');
    return { maps, servers, ...(this.compiled ? { shape: this.compiled.shape } : {}) };
  }

  private async apply(): Promise<void> {
    const { apps, hosts, states, targets, appHosts } = this.plan();
    for (const [slot, list] of targets) await this.applyServers(slot, list);
    for (const slot of this.slots)
      if (slot.app !== undefined && !apps.has(slot.app)) {
        await this.applyServers(slot, []);
        if (slot.servers.size === 0 && slot.draining.length === 0) {
          this.appSlot.delete(slot.app);
          slot.app = undefined;
        }
      }
    const hostText = hosts.join('\n');
    const stateText = states.join('\n');
    const files = haproxyFiles(this.dir);
    // States and rules before hosts: a host must never lead to its app without them (a new
    // host, or an app coming back, reaches its rules' maps first).
    if (stateText !== this.statesMap) await this.replaceMap(files.states, states);
    this.statesMap = stateText;
    // Rules whose shape the running rule block does not have (a reload for them is due) are
    // not applied: the hosts wait for the new haproxy, rather than skip the rules.
    if (!(await this.applyRules(appHosts))) return;
    if (hostText !== this.hostsMap) await this.replaceMap(files.hosts, hosts);
    this.hostsMap = hostText;
  }

  /** The apps' rules compiled for the maps (undefined: no plugin gives rules). */
  private compileRules(appHosts: ReadonlyMap<string, string[]>): CompiledRules | undefined {
    const hook = this.o.rules;
    if (!hook || hook.taps.length === 0) return undefined;
    const onError = this.o.onError ?? (() => undefined);
    const apps: AppRules[] = [];
    for (const [app, hosts] of appHosts) {
      const slot = this.appSlot.get(app);
      if (!slot) continue;
      const rules = usableRules(hook, app, hosts, onError);
      apps.push({ app, slot: slotName(slot.index), rules });
    }
    const slotOf = (app: string): string | undefined => {
      const s = this.appSlot.get(app);
      return s ? slotName(s.index) : undefined;
    };
    return compileRouteRules(apps, slotOf);
  }

  /**
   * Compile the apps' rules; apply them when the running configuration has their shape.
   * Whether this haproxy holds rules for its hosts (now or from an earlier sync).
   */
  private async applyRules(appHosts: ReadonlyMap<string, string[]>): Promise<boolean> {
    const compiled = this.compileRules(appHosts);
    if (!compiled) return true;
    this.compiled = compiled;
    if (compiled.shapeKey !== this.ruleShapeKey) return this.rulesHeld;
    await this.ruleMaps.apply(compiled);
    this.rulesHeld = true;
    return true;
  }

  /** A new server name for a dyno (unique in this haproxy). */
  private serverName(t: RouteTarget): string {
    return `${t.dyno.replace(/[^A-Za-z0-9.-]/g, '-')}_${++this.serial}`;
  }

  /**
   * A dyno server's options, alike in a `server` line and in `add server`. Quarantine: marked
   * down on its first refused connection, checked again after `quarantineMs`. A dynamic server
   * reuses upstream connections only with the pool options given.
   */
  private serverOptions(): string {
    const q = this.o.quarantineMs;
    return (
      `maxconn ${this.o.inFlightPerDyno} pool-purge-delay 5s pool-max-conn -1 ` +
      `check inter ${q} fastinter ${q} downinter ${q} rise 1 fall 1 observe layer4 error-limit 1 on-error mark-down`
    );
  }

  private slotFor(app: string): Slot {
    let slot = this.appSlot.get(app);
    if (slot) return slot;
    const free = (s: Slot): boolean => s.app === undefined && s.servers.size === 0 && s.draining.length === 0;
    // A slot the previous haproxy still used goes last: its last log lines name that slot.
    slot = this.slots.find((s) => free(s) && !this.previousSlots.has(s.index)) ?? this.slots.find(free);
    if (!slot) throw routerErrors.SLIPWAY_ERR_ROUTER_SLOTS_FULL({ app, slots: this.slots.length });
    slot.app = app;
    this.appSlot.set(app, slot);
    return slot;
  }

  /** Atomic swap of a whole map: prepare a new version, fill it, commit it. */
  private async replaceMap(file: string, entries: readonly string[]): Promise<void> {
    const prepared = await this.socket.run(`prepare map ${file}`);
    const version = /version(?: created)?\s*[:=]?\s*(\d+)/i.exec(prepared)?.[1];
    if (version === undefined)
      throw routerErrors.SLIPWAY_ERR_ROUTER_DATA_PLANE({ command: `prepare map ${file}`, detail: prepared });
    await this.socket.batch([
      ...entries.map((e) => `add map @${version} ${file} ${e}`),
      `commit map @${version} ${file}`,
    ]);
  }

  /**
   * Add the new dynos and disable the removed ones in one round trip (under load a slow
   * sequence would let the old dynos stop before HAProxy stops sending to them), then delete
   * the disabled ones whose requests are done.
   */
  private async applyServers(slot: Slot, targets: readonly RouteTarget[]): Promise<void> {
    const be = slotName(slot.index);
    const want = new Map(targets.map((t) => [key(t), t]));
    const batch: string[] = [];
    for (const [k, t] of want) {
      if (slot.servers.has(k)) continue;
      const name = this.serverName(t);
      batch.push(
        `add server ${be}/${name} ${t.host}:${t.port} ${this.serverOptions()}`,
        `enable health ${be}/${name}`,
        `enable server ${be}/${name}`,
      );
      slot.servers.set(k, { name, target: t });
    }
    const now = Date.now();
    for (const [k, s] of slot.servers) {
      if (want.has(k)) continue;
      batch.push(`disable server ${be}/${s.name}`);
      s.drainUntil = now + this.o.drainMs;
      slot.servers.delete(k);
      slot.draining.push(s);
    }
    if (batch.length) await this.socket.batch(batch);
    for (const s of [...slot.draining]) {
      if (now >= s.drainUntil!) await this.socket.run(`shutdown sessions server ${be}/${s.name}`);
      const answer = await this.socket.run(`del server ${be}/${s.name}`);
      if (/deleted|no such server/i.test(answer)) slot.draining.splice(slot.draining.indexOf(s), 1);
    }
  }

  /** True while some removed dyno still has requests in flight (the caller syncs again later). */
  get draining(): boolean {
    return this.slots.some((s) => s.draining.length > 0);
  }
}
