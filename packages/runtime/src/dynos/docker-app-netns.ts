/**
 * One network namespace per app on the Docker runtime. A small holder container per app is the
 * app's one endpoint on the dyno network (one veth pair, one address); the app's dynos join its
 * namespace (`NetworkMode: container:<holder>`), each on its own port.
 *
 * Why: the engine builds a namespace, a veth pair and an address for every container it connects,
 * one after another under its network lock: 0.2–0.4 s of engine time per container here, most
 * of what 100 dynos took to start (100 containers joining one namespace start ~3× faster).
 * Apps stay apart: holders are containers on the bridge with inter-container traffic off, so app
 * A's dynos still cannot reach app B's. Dynos of one app share an address and loopback (they
 * already share a uid, as on Heroku they share a slug and config): two dynos of the same app
 * cannot both bind one fixed port; `$PORT` differs per dyno.
 *
 * A holder outlives a platform SIGKILL with its dynos (both are adopted by label); it is
 * removed once its app has had no container for `idleMs`, and when the runtime closes.
 */
import { type Clock, systemClock } from '@slipway/core';
import type Docker from 'dockerode';
import { lines } from './docker-streams.js';

/** The label value of `slipway.role` on a holder. */
export const NETNS_ROLE = 'netns';

/** An app's namespace: the holder's container id and its address on the dyno network. */
export interface AppNetns {
  id: string;
  host: string;
}

interface Entry {
  holder: Promise<AppNetns>;
  /** The holder of an earlier platform process, known at once. */
  adopted?: AppNetns;
  /** Containers of the app using it (starting or running). */
  users: number;
  timer?: { cancel(): void };
}

/** The per-app namespaces of one platform on one engine. */
export class AppNetworks {
  private readonly apps = new Map<string, Entry>();
  /** A holder being removed: a new holder of that app waits for it (one name per app). */
  private readonly removing = new Map<string, Promise<unknown>>();
  private events: NodeJS.ReadableStream | undefined;
  private closed = false;

  constructor(
    private readonly docker: Docker,
    private readonly o: {
      image: string;
      network: string;
      labels: Record<string, string>;
      /** Short id of the platform in container names (several platforms may share an engine). */
      nameTag: string;
      ociRuntime?: string;
      idleMs?: number;
      /** The platform's clock, which times the idle removal. */
      clock?: Clock;
    },
  ) {}

  /** Keep a running holder of an earlier platform process (after a restart) for its app. */
  adopt(c: Docker.ContainerInfo): void {
    const app = c.Labels['slipway.app'] ?? '';
    const host = c.NetworkSettings?.Networks?.[this.o.network]?.IPAddress;
    if (!host || this.apps.has(app)) return;
    const adopted = { id: c.Id, host };
    const e: Entry = { holder: Promise.resolve(adopted), adopted, users: 0 };
    this.apps.set(app, e);
    this.idle(app, e);
  }

  /**
   * An adopted dyno of `app` that joined the namespace at `host`: held until `release` when that
   * namespace is still there (false: the dyno has no network any more).
   */
  joinAdopted(app: string, host: string): boolean {
    const e = this.apps.get(app);
    if (e?.adopted?.host !== host) return false;
    e.users++;
    e.timer?.cancel();
    return true;
  }

  /** The app's namespace (its holder made when missing), held until `release`. */
  async acquire(app: string): Promise<AppNetns> {
    let e = this.apps.get(app);
    if (!e) {
      e = { holder: this.make(app), users: 0 };
      this.apps.set(app, e);
      const made = e;
      // A holder that could not be made is not kept: the next dyno tries again.
      made.holder.catch(() => this.apps.get(app) === made && this.apps.delete(app));
    }
    e.users++;
    e.timer?.cancel();
    try {
      return await e.holder;
    } catch (err) {
      e.users--;
      throw err;
    }
  }

  /** A container of `app` is gone; the holder goes once no other has come for `idleMs`. */
  release(app: string): void {
    const e = this.apps.get(app);
    if (!e) return;
    e.users = Math.max(0, e.users - 1);
    if (e.users === 0) this.idle(app, e);
  }

  /**
   * Watch the holders: when one dies (removed by hand, killed), its app's dynos have lost their
   * network, `onLost(app)` is told (the runtime ends them; their restarts make a new holder).
   */
  async watch(onLost: (app: string) => void): Promise<void> {
    const events = await this.docker.getEvents({
      filters: {
        type: ['container'],
        event: ['die', 'destroy'],
        label: [`slipway.role=${NETNS_ROLE}`],
      },
    });
    this.events = events;
    lines(
      events,
      (line) => {
        try {
          const ev = JSON.parse(line) as { id?: string; Actor?: { Attributes?: Record<string, string> } };
          const app = ev.Actor?.Attributes?.['slipway.app'];
          const e = app === undefined ? undefined : this.apps.get(app);
          if (app === undefined || !e || this.closed) return;
          void e.holder.then(
            (h) => {
              if (h.id !== ev.id || this.apps.get(app) !== e) return;
              this.apps.delete(app);
              e.timer?.cancel();
              onLost(app);
            },
            () => {},
          );
        } catch {}
      },
      64 * 1024,
    );
    events.on('error', () => {});
  }

  /** Remove every holder (the runtime closes after stopping its dynos). */
  async close(): Promise<void> {
    this.closed = true;
    (this.events as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    const all = [...this.apps.entries()];
    this.apps.clear();
    await Promise.all(
      all.map(([, e]) => {
        e.timer?.cancel();
        return e.holder.then((h) => this.remove(h.id)).catch(() => {});
      }),
    );
  }

  private idle(app: string, e: Entry): void {
    e.timer?.cancel();
    e.timer = (this.o.clock ?? systemClock).setTimeout(() => {
      if (this.apps.get(app) !== e || e.users > 0) return;
      this.apps.delete(app);
      const gone = e.holder.then((h) => this.remove(h.id)).catch(() => {});
      this.removing.set(app, gone);
      void gone.finally(() => this.removing.get(app) === gone && this.removing.delete(app));
    }, this.o.idleMs ?? 30_000);
  }

  private async make(app: string): Promise<AppNetns> {
    await this.removing.get(app);
    const name = `slipway-${app}-netns-${this.o.nameTag}`;
    // A holder of this platform left behind (removed while the platform was down): replace it.
    await this.remove(name);
    const c = await this.docker.createContainer({
      name,
      Image: this.o.image,
      // tini reaps and forwards; `sleep infinity` holds the namespace and does nothing else.
      Entrypoint: ['/usr/bin/tini', '-s', '--'],
      Cmd: ['sleep', 'infinity'],
      User: '65534:65534',
      Labels: { ...this.o.labels, 'slipway.role': NETNS_ROLE, 'slipway.app': app },
      HostConfig: {
        NetworkMode: this.o.network,
        Memory: 16 * 1024 * 1024,
        MemorySwap: 16 * 1024 * 1024,
        PidsLimit: 8,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        ReadonlyRootfs: true,
        LogConfig: { Type: 'none', Config: {} },
        ...(this.o.ociRuntime ? { Runtime: this.o.ociRuntime } : {}),
      },
    });
    try {
      await c.start();
      const info = await c.inspect();
      const host = info.NetworkSettings.Networks[this.o.network]?.IPAddress;
      if (!host) throw new Error(`the network holder of ${app} has no address on ${this.o.network}`);
      return { id: c.id, host };
    } catch (e) {
      await this.remove(c.id);
      throw e;
    }
  }

  private remove(idOrName: string): Promise<void> {
    return this.docker
      .getContainer(idOrName)
      .remove({ force: true })
      .then(
        () => {},
        () => {},
      );
  }
}
