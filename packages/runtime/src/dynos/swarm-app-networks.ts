/**
 * One overlay network per app on the Swarm runtime, as the Docker runtime's bridge without
 * inter-container traffic keeps apps apart on one machine: an app's services and its one-off
 * containers join only its own overlay, so a dyno reaches its own app's dynos and, through the
 * edge gateway (swarm-edge.ts), the platform's services, never another app's dynos. An overlay
 * is made on the app's first dyno and removed once the app has had none for `idleMs` (a
 * destroyed or renamed app's with it; a scaled-to-zero app gets a new one when it scales up).
 * Per app, making and removing are serialised so a dyno never starts on an overlay going away.
 */
import type Docker from 'dockerode';
import { type EdgeJoin, ensureNetwork, joinOverlay, leaveOverlay, type SwarmEdge } from './swarm-edge.js';

/** The app overlays of one platform. */
export class SwarmAppNetworks {
  private readonly joined = new Map<string, EdgeJoin>();
  /** Per app: the last make/remove, so the next one waits for it. */
  private readonly queue = new Map<string, Promise<unknown>>();
  /** Per app: when it was last seen without a dyno (absent while it has one). */
  private readonly idleSince = new Map<string, number>();

  constructor(
    private readonly docker: Docker,
    private readonly edge: SwarmEdge,
    private readonly platformId: string,
    private readonly idleMs = 30_000,
  ) {}

  /** The name of an app's overlay (the platform's id in it: two platforms may share a swarm). */
  nameOf(app: string): string {
    return `slipway-${this.platformId.slice(0, 8)}-${app}`;
  }

  /** The app's overlay, made and joined by the gateway if need be; its name. */
  acquire(app: string): Promise<string> {
    this.idleSince.delete(app);
    return this.serial(app, async () => {
      this.idleSince.delete(app);
      if (!this.joined.has(app)) {
        const name = this.nameOf(app);
        await ensureNetwork(this.docker, name, {
          Driver: 'overlay',
          // One-off containers on the manager join it; no VIPs: the router balances.
          Attachable: true,
          Labels: { 'slipway.network': 'swarm-app', 'slipway.platform': this.platformId, 'slipway.app': app },
        });
        this.joined.set(app, await joinOverlay(this.docker, this.edge, name));
      }
      return this.nameOf(app);
    });
  }

  /** The gateway was set up again (it restarted without its rules): join every overlay again. */
  async rejoin(): Promise<void> {
    for (const app of [...this.joined.keys()])
      await this.serial(app, async () => {
        if (this.joined.has(app))
          this.joined.set(app, await joinOverlay(this.docker, this.edge, this.nameOf(app)));
      });
  }

  /** Overlays of this platform left by an earlier process: removed by `reap` unless an app claims them. */
  async adoptLeftovers(): Promise<void> {
    for (const n of await this.docker.listNetworks({
      filters: { label: [`slipway.platform=${this.platformId}`, 'slipway.network=swarm-app'] },
    })) {
      const app = n.Labels?.['slipway.app'];
      if (!app || this.joined.has(app)) continue;
      await this.acquire(app).catch(() => {});
      this.idleSince.set(app, Date.now());
    }
  }

  /** Remove the overlays of apps that have had no dyno for `idleMs`; `busy` are the apps with one now. */
  async reap(busy: Set<string>): Promise<void> {
    const now = Date.now();
    for (const app of this.joined.keys()) {
      if (busy.has(app)) {
        this.idleSince.delete(app);
        continue;
      }
      const since = this.idleSince.get(app);
      if (since === undefined) this.idleSince.set(app, now);
      else if (now - since >= this.idleMs) await this.remove(app, busy);
    }
  }

  /** Remove every overlay this process joined (the platform stops; its dynos are gone). */
  async close(): Promise<void> {
    await Promise.all([...this.joined.keys()].map((app) => this.remove(app, new Set(), true)));
  }

  private remove(app: string, busy: Set<string>, force = false): Promise<void> {
    return this.serial(app, async () => {
      const join = this.joined.get(app);
      // Claimed again while waiting for its turn.
      if (!join || (!force && (busy.has(app) || !this.idleSince.has(app)))) return;
      this.joined.delete(app);
      this.idleSince.delete(app);
      await leaveOverlay(this.docker, this.edge, join);
      // Swarm frees a removed task's endpoint a little after the task ends: a few tries.
      for (let i = 0; i < 10; i++) {
        const gone = await this.docker
          .getNetwork(join.network)
          .remove()
          .then(() => true)
          .catch((e: Error) => /not found|No such network/i.test(e.message));
        if (gone) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    });
  }

  private serial<T>(app: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.queue.get(app) ?? Promise.resolve()).catch(() => {}).then(fn);
    this.queue.set(app, next);
    return next;
  }
}
