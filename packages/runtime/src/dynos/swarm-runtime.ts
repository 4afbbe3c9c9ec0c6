/**
 * The `swarm` dyno runtime: dynos spread over the nodes of a Docker Swarm whose manager is the
 * engine the platform talks to. Each formation dyno is a service of one task from the stack
 * image (why one per dyno: swarm-service.ts), placed by Swarm, booting its slug from the
 * platform (swarm-slug-server.ts: no registry) and reached by the router at its own overlay
 * address through the edge gateway (swarm-edge.ts). Each app has an overlay of its own
 * (swarm-app-networks.ts): no dyno reaches another app's. One-off dynos (`run`, the release
 * phase) go to the node asked for, else the one with the fewest dynos: on the manager a container
 * attached through the engine as the Docker runtime's; elsewhere a one-task service that, when
 * attached, calls the platform back for its stdio (swarm-rendezvous.ts).
 *
 * Task changes are watched through the engine's API: a task that ends, or whose node goes
 * down, ends its dyno (an `exit` event), so the dyno manager restarts it and Swarm places the
 * new task on a node that is up, while the router has quarantined the lost address. Services
 * carry the Docker runtime's labels: a platform that restarts adopts the services its formation
 * asks for and removes the rest once the adoption window closes.
 *
 * Longer than 400 lines on purpose: a dyno's life (start, follow its task, logs, poll, end,
 * adoption) is one state machine over `dynos`; the parts without that state live beside it
 * (swarm-edge, swarm-app-networks, swarm-service, swarm-placement, swarm-tasks,
 * swarm-slug-server, swarm-rendezvous, swarm-remote-one-off).
 */
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { PassThrough } from 'node:stream';
import type {
  DynoHandle,
  DynoRuntime,
  DynoSpec,
  DynoStatus,
  OneOffSession,
  OneOffSpec,
  SlugRef,
  SlugStore,
} from '@slipway/core';
import { type Clock, every, systemClock } from '@slipway/core';
import type Docker from 'dockerode';
import { AppUsers } from '../isolation/app-users.js';
import { stackErrors } from '../stack/errors.js';
import { DEFAULT_STACK } from '../stack/stack-packages.js';
import { AdoptableDynos } from './adoptable-dynos.js';
import { engineOr, platformIdOf, requireStackImage, specKey } from './docker-container.js';
import { attachStreams, demux, lines, splitStatus } from './docker-streams.js';
import type { DynoExit } from './dyno-process.js';
import { dynoErrors } from './errors.js';
import { RuntimeOneOffSession } from './one-off-session.js';
import { SwarmAppNetworks } from './swarm-app-networks.js';
import { edgeIntact, ensureSwarmEdge, type SwarmEdge } from './swarm-edge.js';
import { killedForMemory, MemoryReports } from './swarm-memory.js';
import { type PlacedDyno, SwarmNodes } from './swarm-placement.js';
import { runRemoteOneOff } from './swarm-remote-one-off.js';
import { Rendezvous } from './swarm-rendezvous.js';
import { bootEnv, dynoServiceSpec, oneOffContainerOptions } from './swarm-service.js';
import { SlugServer } from './swarm-slug-server.js';
import { dynoHandle, ENDED, latest, overlayAddress, type Task } from './swarm-tasks.js';

/** Options of the Swarm runtime. */
export interface SwarmDynoRuntimeOptions {
  /** Platform data dir: names the platform in service labels (adoption after a restart). */
  dataDir: string;
  slugStore: SlugStore;
  /** The per-app uid table shared with builds (default: opened from `dataDir`). */
  users?: AppUsers;
  /** The manager's engine; default the local one. */
  docker?: Docker;
  /** Stack name; the image `slipway/stack:<stack>` must be on every node. Default `slipway-13`. */
  stack?: string;
  /** How often tasks and nodes are read; default 1000 ms. */
  pollMs?: number;
  /** SIGTERM → SIGKILL grace Swarm gives a removed dyno; default 30 s (Heroku's). */
  stopGraceMs?: number;
  /** How long a dyno's task may take to be running on its node; default 120 s. */
  placeTimeoutMs?: number;
  /** Services of an earlier platform process nobody claims within this are removed; default 60 s. */
  adoptWindowMs?: number;
  /** An app's overlay is removed once the app has had no dyno for this long; default 30 s. */
  networkIdleMs?: number;
  /** The platform's clock (the kernel's `Clock`): the adoption window, the poller, slug tokens. */
  clock?: Clock;
}

/** What the runtime keeps about a dyno. */
export interface SwarmDyno {
  handle: DynoHandle;
  /** The service of a formation dyno or of a one-off on another node; none for a one-off container on the manager. */
  service?: Docker.Service;
  container?: Docker.Container;
  stopping: boolean;
  exited: Promise<DynoExit>;
  finish: (exit: DynoExit) => void;
  streams?: { stdout: PassThrough; stderr: PassThrough; stdin: NodeJS.ReadWriteStream };
  logs?: NodeJS.ReadableStream;
  /** The Swarm node id its task runs on. */
  nodeId?: string;
  /** A one-off task on another node: its own watcher follows it, not `poll`. */
  oneOff?: boolean;
  /** Its last memory report (swarm-memory.ts), its limit, and how to stop reading reports. */
  lastMemory?: number;
  quotaBytes?: number;
  stopMemory?: () => void;
}

/** The Swarm dyno runtime (core `DynoRuntime`); events as the other runtimes'. */
export class SwarmDynoRuntime extends EventEmitter implements DynoRuntime {
  /** The platform's id in labels (a digest of its data dir, as the Docker runtime's). */
  readonly platformId: string;
  /** Where dynos reach the platform's services, and where those listen (see swarm-edge.ts). */
  edge: SwarmEdge | undefined;

  /** What the operator must know (the platform prints it at start): nothing left. */
  readonly warnings: string[] = [];

  /** Core's `DynoRuntime.runtimeInSlug`: a container has the stack image and the slug only. */
  readonly runtimeInSlug = true;
  /** Core's `DynoRuntime.hostAddress`: add-on servers listen on the edge bridge's host side. */
  get hostAddress(): string | undefined {
    return this.edge?.hostAddress;
  }

  /** Core's `DynoRuntime.dynoHostAddress`: dynos on every node name the edge gateway on their app's overlay. */
  get dynoHostAddress(): string | undefined {
    return this.edge?.dynoHost;
  }
  private readonly docker: Docker;
  private readonly opts: SwarmDynoRuntimeOptions;
  private readonly stackImage: string;
  private stackImageId = '';
  private readonly slugs: SlugServer;
  private readonly rendezvous = new Rendezvous();
  private readonly memory: MemoryReports;
  private users!: AppUsers;
  private readonly dynos = new Map<string, SwarmDyno>();
  /** Node id → hostname and address, for `ps`. */
  private readonly nodes: SwarmNodes;
  private networks!: SwarmAppNetworks;
  /** Per app, dynos being started and not tracked yet: their overlay must stay. */
  private readonly starting = new Map<string, number>();
  /** Services of an earlier platform process, by spec key, until claimed or removed. */
  private readonly adoptable = new AdoptableDynos<Docker.Service>((s) => s.remove().catch(() => {}));
  /** Dynos placed on a node but not running yet: counted by the next placements (a scale-up starts several at once). */
  private readonly placing = new Set<PlacedDyno>();
  private initP: Promise<void> | undefined;
  private timer: { cancel(): void } | undefined;
  private polling = false;
  /** When the edge gateway was last checked for a restart (checkEdge). */
  private edgeCheckedAt = 0;
  /** The manager's node id: one-offs run there. */
  private managerId = '';
  private closed = false;

  constructor(opts: SwarmDynoRuntimeOptions, docker: Docker) {
    super();
    this.opts = opts;
    this.docker = docker;
    this.stackImage = `slipway/stack:${opts.stack ?? DEFAULT_STACK}`;
    this.platformId = platformIdOf(opts.dataDir);
    this.slugs = new SlugServer(opts.slugStore, { clock: opts.clock });
    this.nodes = new SwarmNodes(docker);
    this.memory = new MemoryReports(this.rendezvous, opts.placeTimeoutMs ?? 120_000);
  }

  /**
   * Every service runs the one stack image every node holds: a slug built on another stack (an
   * app's `stack:set`) is refused with a coded error rather than run on a C library and
   * packages it was not built for.
   */
  private requireStack(app: string, slug: SlugRef): void {
    const stack = this.opts.stack ?? DEFAULT_STACK;
    if (slug.stack && slug.stack !== stack)
      throw stackErrors.SLIPWAY_ERR_STACK_SWARM_ONE_STACK({ app, built: slug.stack, stack });
  }

  /** Create the runtime on the local engine (a Swarm manager), with coded errors when it cannot run. */
  static async create(opts: SwarmDynoRuntimeOptions): Promise<SwarmDynoRuntime> {
    const rt = new SwarmDynoRuntime(opts, await engineOr(opts.docker));
    await rt.init();
    return rt;
  }

  /** Check the engine, the swarm and the stack image; set up the edge; adopt or remove earlier services. */
  init(): Promise<void> {
    this.initP ??= this.doInit();
    return this.initP;
  }

  private get labels(): Record<string, string> {
    return { 'slipway.platform': this.platformId };
  }

  private async doInit(): Promise<void> {
    let info: { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string } };
    try {
      info = await this.docker.info();
    } catch (e) {
      throw stackErrors.SLIPWAY_ERR_STACK_NO_ENGINE({ detail: (e as Error).message }, { cause: e });
    }
    if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable)
      throw stackErrors.SLIPWAY_ERR_STACK_NO_SWARM({ state: info.Swarm?.LocalNodeState ?? 'unknown' });
    this.managerId = info.Swarm.NodeID ?? '';
    await this.nodes.refresh();
    await requireStackImage(this.docker, this.stackImage, this.opts.stack ?? DEFAULT_STACK);
    // Services name the image by its id: a node then runs it from its own store, where a name
    // would make every node try a registry first (and wait for it) on each task.
    this.stackImageId = ((await this.docker.getImage(this.stackImage).inspect()) as { Id: string }).Id;
    this.users = this.opts.users ?? (await AppUsers.open(this.opts.dataDir));
    this.edge = await ensureSwarmEdge(this.docker, this.stackImage, this.labels, this.edgeName);
    this.networks = new SwarmAppNetworks(this.docker, this.edge, this.platformId, this.opts.networkIdleMs);
    await this.networks.adoptLeftovers();
    await this.slugs.listen(this.edge.hostAddress, this.edge.dynoHost);
    await this.rendezvous.listen(this.edge.hostAddress, this.edge.dynoHost);
    for (const s of await this.docker.listServices({
      filters: { label: [`slipway.platform=${this.platformId}`] },
    })) {
      const key = s.Spec?.Labels?.['slipway.key'];
      const l = s.Spec?.Labels ?? {};
      if (key) {
        const service = this.docker.getService(s.ID);
        this.adoptable.add(key, service, {
          id: s.ID,
          app: l['slipway.app'] ?? '',
          release: Number(l['slipway.release']),
          type: l['slipway.type'] ?? '',
          index: Number(l['slipway.index']),
          startedAt: Date.parse(s.CreatedAt ?? '') || 0,
        });
      } else
        await this.docker
          .getService(s.ID)
          .remove()
          .catch(() => {});
    }
    for (const c of await this.docker.listContainers({
      all: true,
      filters: { label: [`slipway.platform=${this.platformId}`, 'slipway.role=one-off'] },
    }))
      await this.docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {});
    const clock = this.opts.clock ?? systemClock;
    this.adoptable.open(clock, this.opts.adoptWindowMs ?? 60_000);
    this.timer = every(clock, this.opts.pollMs ?? 1000, () => void this.poll());
  }

  /** Start a web or worker dyno: a one-task service Swarm places (or adopt an earlier one). */
  async start(spec: DynoSpec): Promise<DynoHandle> {
    this.requireStack(spec.app, spec.slug);
    await this.init();
    return this.whileStarting(spec.app, () => this.startOn(spec));
  }

  private async startOn(spec: DynoSpec): Promise<DynoHandle> {
    const dyno = `${spec.type}.${spec.index}`;
    const network = await this.networks.acquire(spec.app).catch((e: Error) => {
      throw dynoErrors.SLIPWAY_ERR_DYNO_SPAWN(
        { app: spec.app, dyno, detail: `its overlay network: ${e.message}`, dataDir: this.opts.dataDir },
        { cause: e },
      );
    });
    const key = specKey(spec);
    const old = this.adoptable.claim(key);
    if (old) {
      // A service on another network (an earlier version's shared overlay) is not adopted.
      const adopted = await this.adopt(old, spec, network).catch(() => undefined);
      if (adopted) return adopted;
      await old.remove().catch(() => {});
    }
    const port = spec.port ?? (spec.type === 'web' ? randomInt(10_000, 60_000) : undefined);
    let placed: PlacedDyno | undefined;
    try {
      const uid = (await this.users.userFor(spec.app)).uid;
      await this.nodes.refresh();
      const running = [...this.dynos.values()].map((d) => ({ ...d.handle, nodeId: d.nodeId }));
      const nodeId = this.nodes.choose(spec, [...running, ...this.placing]);
      if (nodeId) {
        placed = { nodeId, app: spec.app, type: spec.type, release: spec.release };
        this.placing.add(placed);
      }
      const labels = {
        'slipway.role': 'dyno',
        'slipway.app': spec.app,
        'slipway.release': String(spec.release),
        'slipway.type': spec.type,
        'slipway.index': String(spec.index),
        'slipway.key': key,
        ...(port !== undefined ? { 'slipway.port': String(port) } : {}),
      };
      const mem = this.memory.ask();
      const service = await this.createService({
        spec,
        env: { ...bootEnv(spec, dyno, port, uid, this.slugs.urlFor(spec.slug)), ...mem.env },
        labels,
        network,
        constraints: placed ? [`node.id==${placed.nodeId}`] : [],
      });
      return await this.follow(service, spec, port, network, Math.floor(Date.now() / 1000) - 1, mem);
    } catch (e) {
      if (placed) this.placing.delete(placed);
      throw dynoErrors.SLIPWAY_ERR_DYNO_SPAWN(
        { app: spec.app, dyno, detail: (e as Error).message, dataDir: this.opts.dataDir },
        { cause: e },
      );
    }
  }

  /** Remove the dyno's service: Swarm sends SIGTERM, SIGKILL after the grace; resolves once it is gone. */
  async stop(handle: DynoHandle, _graceMs: number): Promise<void> {
    const d = this.dynos.get(handle.id);
    if (!d) return;
    if (!d.stopping) {
      d.stopping = true;
      if (d.service) await d.service.remove().catch(() => {});
      else await d.container?.kill({ signal: 'SIGTERM' }).catch(() => {});
    }
    await d.exited;
  }

  /** A one-off dyno (`run.N`, release phase) on its app's overlay, on the node asked for or chosen. */
  async runOnce(spec: OneOffSpec): Promise<OneOffSession> {
    this.requireStack(spec.app, spec.slug);
    await this.init();
    return this.whileStarting(spec.app, () => this.runOn(spec));
  }

  private async runOn(spec: OneOffSpec): Promise<OneOffSession> {
    const n = randomInt(1000, 10_000);
    const dyno = `${spec.type}.${n}`;
    const attach = spec.attach ? { tty: spec.tty } : undefined;
    const tty = attach?.tty !== undefined;
    const full = { ...spec, index: n };
    const nodeId = await this.oneOffNode(spec, dyno);
    try {
      const uid = (await this.users.userFor(spec.app)).uid;
      const network = await this.networks.acquire(spec.app);
      if (nodeId !== this.managerId) return await this.runOnNode(full, dyno, nodeId, network, uid);
      const container = await this.docker.createContainer(
        oneOffContainerOptions({
          spec: full,
          dyno,
          attach,
          uid,
          labels: this.labels,
          name: `slipway-${spec.app}-${dyno}-${this.platformId.slice(0, 6)}-${randomInt(1e6, 1e7)}`,
          image: this.stackImage,
          slugUrl: this.slugs.urlFor(spec.slug),
          network,
        }),
      );
      const { stdout, stderr, stdin } = await attachStreams(
        this.docker,
        container,
        attach !== undefined,
        tty,
      );
      const handle = dynoHandle(container.id, full, { node: this.managerName() });
      const d = this.track(handle, { container });
      if (attach) d.streams = { stdout, stderr, stdin };
      else {
        lines(stdout, (l) => this.emit('output', handle, l, 'stdout'));
        lines(stderr, (l) => this.emit('output', handle, l, 'stderr'));
      }
      await container.start();
      if (attach?.tty) void container.resize({ w: attach.tty.columns, h: attach.tty.rows }).catch(() => {});
      void container
        .wait()
        .then((r: { StatusCode: number }) => r.StatusCode)
        .catch(() => 1)
        .then(async (status: number) => {
          await container.remove({ force: true }).catch(() => {});
          this.end(d, status);
        });
      return new RuntimeOneOffSession(handle, {
        ...(d.streams ? { streams: d.streams, idleTimeoutMs: spec.idleTimeoutMs } : {}),
        exit: d.exited,
        kill: (signal) => void container.kill({ signal }).catch(() => {}),
        resize: (w, h) => void container.resize({ w, h }).catch(() => {}),
      });
    } catch (e) {
      throw dynoErrors.SLIPWAY_ERR_DYNO_SPAWN(
        { app: spec.app, dyno, detail: (e as Error).message, dataDir: this.opts.dataDir },
        { cause: e },
      );
    }
  }

  /**
   * The node a one-off runs on: the one it names (a coded error if that node cannot take it), else
   * the one with the fewest dynos, the manager included.
   */
  private async oneOffNode(spec: OneOffSpec, dyno: string): Promise<string> {
    await this.nodes.refresh();
    if (spec.node) {
      const found = this.nodes.find(spec.node);
      if ('why' in found)
        throw dynoErrors.SLIPWAY_ERR_DYNO_RUN_NODE({
          app: spec.app,
          dyno,
          node: spec.node,
          detail: found.why,
          known: this.nodes.placeable(),
        });
      return found.id;
    }
    const running = [...this.dynos.values()].map((d) => ({
      ...d.handle,
      nodeId: d.nodeId ?? this.managerId,
    }));
    return this.nodes.choose(spec, [...running, ...this.placing]) ?? this.managerId;
  }

  /** A one-off on another node (swarm-remote-one-off.ts), with what it needs of this runtime. */
  private runOnNode(
    spec: DynoSpec & OneOffSpec,
    dyno: string,
    nodeId: string,
    network: string,
    uid: number,
  ): Promise<OneOffSession> {
    return runRemoteOneOff(
      {
        docker: this.docker,
        nodes: this.nodes,
        rendezvous: this.rendezvous,
        placeTimeoutMs: this.opts.placeTimeoutMs ?? 120_000,
        createService: (o) => this.createService(o),
        track: (handle, service) => {
          const d = this.track(handle, { service });
          d.nodeId = nodeId;
          d.oneOff = true;
          return d;
        },
        tracked: (d) => this.dynos.get(d.handle.id) === d,
        serviceLogs: (d, service, since) => this.serviceLogs(d, service, since),
        stop: (handle) => this.stop(handle, 0),
        end: (d, status) => this.end(d, status),
        output: (handle, line) => this.emit('output', handle, line, 'stderr'),
      },
      {
        spec,
        dyno,
        nodeId,
        network,
        env: bootEnv(spec, dyno, undefined, uid, this.slugs.urlFor(spec.slug)),
      },
    );
  }

  /** Create a dyno's one-task service from the stack image (a formation dyno, or a one-off on another node). */
  private async createService(o: {
    spec: DynoSpec;
    env: Record<string, string>;
    labels: Record<string, string>;
    network: string;
    constraints: string[];
  }): Promise<Docker.Service> {
    const created = await this.docker.createService(
      dynoServiceSpec({
        ...o,
        labels: { ...this.labels, ...o.labels },
        name: `slipway-${o.spec.app}-${o.spec.type}-${o.spec.index}-${this.platformId.slice(0, 6)}-${randomInt(1e6, 1e7)}`,
        stackImage: this.stackImageId,
        stopGraceMs: this.opts.stopGraceMs ?? 30_000,
      }),
    );
    return this.docker.getService(
      (created as { id?: string; ID?: string }).id ?? (created as { ID: string }).ID,
    );
  }

  /** A service's logs as its dyno's output lines while the dyno is tracked; `ended` when they end. */
  private async serviceLogs(
    d: SwarmDyno,
    service: Docker.Service,
    since: number,
  ): Promise<{ ended: Promise<unknown> }> {
    const logs = (await service.logs({
      follow: true,
      stdout: true,
      stderr: true,
      since,
    })) as unknown as NodeJS.ReadableStream;
    d.logs = logs;
    logs.on('error', () => {});
    const { stdout, stderr } = demux(this.docker, logs, false);
    const mine = () => this.dynos.get(d.handle.id) === d;
    lines(stdout, (l) => mine() && this.emit('output', d.handle, l, 'stdout'));
    lines(stderr, (l) => mine() && this.emit('output', d.handle, l, 'stderr'));
    return {
      ended: new Promise((r) => {
        logs.once('end', r);
        logs.once('close', r);
      }),
    };
  }

  /** The dynos this runtime runs now (with their node), and services not adopted yet. */
  async list(app?: string): Promise<DynoStatus[]> {
    await this.init();
    return this.adoptable.statuses(this.dynos.values(), app);
  }

  /** Stop every dyno (Swarm's SIGTERM, SIGKILL after the grace), the watcher and the slug server. */
  async close(): Promise<void> {
    await Promise.all([...this.dynos.values()].map((d) => this.stop(d.handle, 0)));
    this.closed = true;
    this.timer?.cancel();
    this.adoptable.close();
    await this.slugs.close();
    await this.rendezvous.close();
    await this.networks?.close();
  }

  /** Nothing to remove: nodes cache slugs in their volume, keyed by checksum. */
  async removeSlug(): Promise<void> {}

  /** The uid of an app's dynos (as its builds). */
  async uidFor(app: string): Promise<number> {
    await this.init();
    return (await this.users.userFor(app)).uid;
  }

  // -------------------------------------------------------------------------------------------

  /** Wait for the service's task to run and have an overlay address; then track it and its logs. */
  private async follow(
    service: Docker.Service,
    spec: DynoSpec,
    port: number | undefined,
    network: string,
    since: number,
    mem?: ReturnType<MemoryReports['ask']>,
  ): Promise<DynoHandle> {
    const deadline = Date.now() + (this.opts.placeTimeoutMs ?? 120_000);
    for (;;) {
      const tasks = (await this.docker.listTasks({ filters: { service: [service.id] } })) as Task[];
      const t = latest(tasks);
      const state = t?.Status?.State;
      if (t && state === 'running') {
        const address = overlayAddress(t, network);
        if (!address) throw new Error(`task ${t.ID} has no address on ${network}`);
        await this.nodes.refresh();
        const handle = dynoHandle(service.id, spec, {
          ...(port !== undefined ? { host: address, port } : {}),
          ...(t.NodeID ? { node: this.nodes.name(t.NodeID) } : {}),
        });
        const d = this.track(handle, { service });
        if (t.NodeID) d.nodeId = t.NodeID;
        const quota = spec.size.memoryMb * 1024 * 1024;
        d.quotaBytes = quota;
        d.stopMemory = mem?.follow((bytes) => {
          d.lastMemory = bytes;
          if (this.dynos.get(handle.id) === d) this.emit('memory', handle, bytes, quota);
        });
        for (const p of this.placing)
          if (
            p.nodeId === t.NodeID &&
            p.app === spec.app &&
            p.type === spec.type &&
            p.release === spec.release
          ) {
            this.placing.delete(p);
            break;
          }
        await this.serviceLogs(d, service, since);
        return handle;
      }
      if (t && state && ENDED.has(state)) {
        await service.remove().catch(() => {});
        throw new Error(`Swarm ended its task (${state}): ${t.Status?.Err ?? 'no reason given'}`);
      }
      if (Date.now() > deadline) {
        await service.remove().catch(() => {});
        throw new Error(
          `no node ran its task within ${Math.round((this.opts.placeTimeoutMs ?? 120_000) / 1000)} s (last state ${state ?? 'none'}: ${t?.Status?.Err ?? 'no error'}); check \`slipway nodes\` and that every node has ${this.stackImage}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private async adopt(
    service: Docker.Service,
    spec: DynoSpec,
    network: string,
  ): Promise<DynoHandle | undefined> {
    const info = await service.inspect();
    const port = info.Spec?.Labels?.['slipway.port'];
    return this.follow(
      service,
      spec,
      port ? Number(port) : undefined,
      network,
      Math.floor(Date.now() / 1000),
    );
  }

  /** Run `fn` (a dyno of `app` starting) counted in `starting`: the app's overlay stays meanwhile. */
  private async whileStarting<T>(app: string, fn: () => Promise<T>): Promise<T> {
    this.starting.set(app, (this.starting.get(app) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const n = (this.starting.get(app) ?? 1) - 1;
      if (n > 0) this.starting.set(app, n);
      else this.starting.delete(app);
    }
  }

  /** The apps whose overlay must stay: a dyno runs, starts, or waits to be adopted. */
  private busyApps(): Set<string> {
    const apps = new Set(this.starting.keys());
    for (const d of this.dynos.values()) apps.add(d.handle.app);
    for (const a of this.adoptable.apps()) apps.add(a);
    return apps;
  }

  private track(
    handle: DynoHandle,
    where: { service?: Docker.Service; container?: Docker.Container },
  ): SwarmDyno {
    let finish!: (exit: DynoExit) => void;
    const exited = new Promise<DynoExit>((r) => (finish = r));
    const d: SwarmDyno = { handle, ...where, stopping: false, exited, finish };
    this.dynos.set(handle.id, d);
    return d;
  }

  /** Report a dyno's end (once) and forget it. */
  private end(d: SwarmDyno, status: number): void {
    if (this.dynos.get(d.handle.id) !== d) return;
    this.dynos.delete(d.handle.id);
    (d.logs as { destroy?: () => void } | undefined)?.destroy?.();
    d.stopMemory?.();
    const { code, signal } = splitStatus(status);
    const memory = killedForMemory(
      status,
      d.stopping,
      d.lastMemory,
      d.quotaBytes ?? Number.POSITIVE_INFINITY,
    );
    const exit: DynoExit = { status, code, signal, ...(memory ? { reason: 'memory' as const } : {}) };
    this.emit('exit', d.handle, exit.code, exit.signal, exit);
    d.finish(exit);
  }

  /** One look at tasks and nodes: end the dynos whose task ended or whose node is down; remove idle overlays. */
  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      await this.networks.reap(this.busyApps());
      await this.checkEdge();
      const mine = [...this.dynos.values()].filter((d) => d.service && !d.oneOff);
      if (mine.length === 0) return;
      await this.nodes.refresh();
      const tasks = (await this.docker.listTasks()) as Task[];
      const byService = new Map<string, Task[]>();
      for (const t of tasks) byService.set(t.ServiceID, [...(byService.get(t.ServiceID) ?? []), t]);
      for (const d of mine) {
        const t = latest(byService.get(d.handle.id) ?? []);
        const state = t?.Status?.State;
        if (!t) this.end(d, d.stopping ? 143 : 137);
        else if (state && ENDED.has(state)) {
          if (!d.stopping) await d.service?.remove().catch(() => {});
          this.end(d, t.Status?.ContainerStatus?.ExitCode ?? (d.stopping ? 143 : 137));
        } else if (t.NodeID && this.nodes.isDown(t.NodeID)) {
          // The node is gone with its dynos: Swarm would not restart a task of a lost node by
          // itself (restart policy none), so the dyno manager's restart places a new one.
          await d.service?.remove().catch(() => {});
          this.end(d, 137);
        }
      }
    } catch {
      // The engine did not answer this time; the next poll tries again.
    } finally {
      this.polling = false;
    }
  }

  /**
   * Every 5 s: the gateway restarted (an engine restart restarts it) runs without its rules, so
   * its base rules, the host's fence and each overlay's rules are set again (`edgeIntact`).
   */
  private async checkEdge(): Promise<void> {
    if (!this.edge || Date.now() - this.edgeCheckedAt < 5000) return;
    this.edgeCheckedAt = Date.now();
    if (await edgeIntact(this.docker, this.edge)) return;
    // The same object: the app networks hold it, and a re-made gateway may have a new address.
    Object.assign(this.edge, await ensureSwarmEdge(this.docker, this.stackImage, this.labels, this.edgeName));
    await this.networks.rejoin();
  }

  private get edgeName(): string {
    return `slipway-edge-${this.platformId.slice(0, 12)}`;
  }

  private managerName(): string {
    return this.nodes.name(this.managerId);
  }
}
