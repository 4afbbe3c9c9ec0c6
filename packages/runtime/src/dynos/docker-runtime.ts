// Over 400 lines: the DynoRuntime contract over one engine; container spec, streams, images are apart.
/**
 * The `docker` dyno runtime: one container per dyno, from the slug's image (the stack image
 * with the slug in `/app`, see docker-slug-images.ts). Each dyno runs as its app's uid (from
 * isolation/app-users.ts, as its builds) under
 * tini (signals reach the whole process group, zombies are reaped), with `HOME=/app`, cwd
 * `/app`, a writable ephemeral container layer, a memory limit of twice the size's quota (an
 * OOM kill is R15), CPU shares by size, a pids limit, no capabilities and no Docker socket.
 * Dynos sit on one bridge network with inter-container traffic off: the router (on the host)
 * reaches every dyno at its app's address, apps cannot reach each other. An app's dynos share
 * one network namespace (docker-app-netns.ts: the engine connects one container per app, not
 * one per dyno), each on its own port; containers run with crun where it works (docker-oci-runtime.ts).
 *
 * Containers carry labels (platform, app, release, type, index, slug, spec digest): a platform
 * that restarts after a SIGKILL adopts the running dynos its formation asks for (the same
 * container, no second copy) and removes the rest once the adoption window closes.
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
  SlugStore,
} from '@slipway/core';
import { type Clock, every, systemClock } from '@slipway/core';
import type Docker from 'dockerode';
import { AppUsers } from '../isolation/app-users.js';
import { stackErrors } from '../stack/errors.js';
import { DEFAULT_STACK } from '../stack/stack-packages.js';
import { AdoptableDynos } from './adoptable-dynos.js';
import { AppNetworks, NETNS_ROLE } from './docker-app-netns.js';
import {
  cgroupMemory,
  DYNO_NETWORK,
  dynoContainerOptions,
  engineOr,
  handleOf,
  platformIdOf,
  requireStackImage,
  specKey,
} from './docker-container.js';
import { chooseOciRuntime } from './docker-oci-runtime.js';
import { SlugImages } from './docker-slug-images.js';
import { attachStreams, lines, splitStatus } from './docker-streams.js';

export { DYNO_NETWORK } from './docker-container.js';

import type { DynoExit } from './dyno-process.js';
import { dynoErrors } from './errors.js';
import { RuntimeOneOffSession } from './one-off-session.js';

/** Options of the Docker runtime. */
export interface DockerDynoRuntimeOptions {
  /** Platform data dir: names the platform in container labels (adoption after a restart). */
  dataDir: string;
  slugStore: SlugStore;
  /**
   * The per-app uid table shared with builds (default: opened from `dataDir`). Dynos run as their
   * app's uid from it whether or not the platform is root: the engine switches users.
   */
  users?: AppUsers;
  /** Engine; default the local one (DOCKER_HOST or /var/run/docker.sock). */
  docker?: Docker;
  /** Stack name; the image is `slipway/stack:<stack>`. Default `slipway-13`. */
  stack?: string;
  /** Processes per dyno; default 256 (Heroku's limit for 1X dynos), more for larger sizes. */
  pidsLimit?: number;
  /** How often memory is sampled for R14; default 5000 ms. */
  memoryPollMs?: number;
  /** Running containers of an earlier platform process nobody claims within this are removed; default 60 s. */
  adoptWindowMs?: number;
  /** The platform's clock (the kernel's `Clock`), which times the adoption window and the sampler. */
  clock?: Clock;
  /**
   * OCI runtime of the containers: `auto` (default: crun when the engine lists it and it runs
   * here, else the engine's default, runc) or a runtime name the engine lists. Default from
   * `SLIPWAY_DOCKER_OCI_RUNTIME`.
   */
  ociRuntime?: string;
  /**
   * `app` (default): an app's dynos share one network namespace, one address (they start ~3×
   * faster; two dynos of an app cannot bind the same fixed port); `dyno`: one each. Default
   * from `SLIPWAY_DOCKER_NETWORK`.
   */
  network?: 'app' | 'dyno';
  /** An app's network namespace is removed once it has had no container this long; default 30 s. */
  networkIdleMs?: number;
}

/** What the runtime keeps about a container dyno. */
interface ContainerDyno {
  handle: DynoHandle;
  container: Docker.Container;
  quotaBytes: number;
  stopping: boolean;
  reason?: DynoExit['reason'];
  /** Resolves once the container is gone and its exit reported. */
  exited: Promise<DynoExit>;
  oneOff: boolean;
  /** An attached one-off's streams. */
  streams?: { stdout: PassThrough; stderr: PassThrough; stdin: NodeJS.ReadWriteStream };
}

/** The Docker dyno runtime (core `DynoRuntime`). Events as the local runtime's. */
export class DockerDynoRuntime extends EventEmitter implements DynoRuntime {
  /** The platform's id in labels (a digest of its data dir). */
  readonly platformId: string;
  /** The bridge gateway: where dynos reach services of the host (add-on servers). */
  gateway = '';
  /** The OCI runtime of its containers (undefined: the engine's default), and why not crun if listed. */
  ociRuntime: { name: string | undefined; note?: string } = { name: undefined };

  /** Core's `DynoRuntime.runtimeInSlug`: a container has the stack image and the slug only. */
  readonly runtimeInSlug = true;
  /** Core's `DynoRuntime.hostAddress`: add-on servers listen on the gateway. */
  get hostAddress(): string | undefined {
    return this.gateway || undefined;
  }
  private readonly docker: Docker;
  private readonly opts: DockerDynoRuntimeOptions;
  private readonly stackImage: string;
  private images!: SlugImages;
  private users!: AppUsers;
  private readonly dynos = new Map<string, ContainerDyno>();
  /** The apps' network namespaces (network `app`), and the containers holding one. */
  private nets: AppNetworks | undefined;
  private readonly inNetns = new Set<string>();
  /** Running dynos of an earlier platform process, by spec key, until claimed or removed. */
  private readonly adoptable = new AdoptableDynos<Docker.ContainerInfo>((c) =>
    this.docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => {}),
  );
  private initP: Promise<void> | undefined;
  private timer: { cancel(): void } | undefined;
  private events: NodeJS.ReadableStream | undefined;

  constructor(opts: DockerDynoRuntimeOptions, docker: Docker) {
    super();
    this.opts = opts;
    this.docker = docker;
    this.stackImage = `slipway/stack:${opts.stack ?? DEFAULT_STACK}`;
    this.platformId = platformIdOf(opts.dataDir);
  }

  /** Create the runtime on the local engine (or `opts.docker`), with coded errors when it cannot run. */
  static async create(opts: DockerDynoRuntimeOptions): Promise<DockerDynoRuntime> {
    const rt = new DockerDynoRuntime(opts, await engineOr(opts.docker));
    await rt.init();
    return rt;
  }

  /** Check the engine and the stack image, create the network, adopt or remove earlier containers. */
  init(): Promise<void> {
    this.initP ??= this.doInit();
    return this.initP;
  }

  private get labels(): Record<string, string> {
    return { 'slipway.platform': this.platformId };
  }

  private async doInit(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (e) {
      throw stackErrors.SLIPWAY_ERR_STACK_NO_ENGINE({ detail: (e as Error).message }, { cause: e });
    }
    await requireStackImage(this.docker, this.stackImage, this.opts.stack ?? DEFAULT_STACK);
    this.users = this.opts.users ?? (await AppUsers.open(this.opts.dataDir));
    this.images = new SlugImages(this.docker, this.opts.slugStore, this.stackImage, this.labels);
    this.gateway = await this.ensureNetwork();
    const env = process.env;
    this.ociRuntime = await chooseOciRuntime(
      this.docker,
      this.stackImage,
      this.opts.ociRuntime ?? (env.SLIPWAY_DOCKER_OCI_RUNTIME || undefined),
    );
    const network = this.opts.network ?? (env.SLIPWAY_DOCKER_NETWORK || 'app');
    if (network !== 'app' && network !== 'dyno')
      throw stackErrors.SLIPWAY_ERR_STACK_DOCKER_NETWORK({ network });
    if (network === 'app') {
      this.nets = new AppNetworks(this.docker, {
        image: this.stackImage,
        network: DYNO_NETWORK,
        labels: this.labels,
        nameTag: this.platformId.slice(0, 6),
        ...(this.opts.networkIdleMs !== undefined ? { idleMs: this.opts.networkIdleMs } : {}),
        ...(this.opts.clock ? { clock: this.opts.clock } : {}),
        ...(this.ociRuntime.name ? { ociRuntime: this.ociRuntime.name } : {}),
      });
      // A holder gone (removed by hand): its app's dynos have no network; they end and restart.
      await this.nets.watch((app) => {
        for (const d of this.dynos.values())
          if (d.handle.app === app && !d.stopping)
            void d.container.kill({ signal: 'SIGKILL' }).catch(() => {});
      });
    }
    const mine = await this.docker.listContainers({
      all: true,
      filters: { label: [`slipway.platform=${this.platformId}`] },
    });
    for (const c of mine) {
      const l = c.Labels;
      if (c.State === 'running' && l['slipway.role'] === 'dyno')
        this.adoptable.add(l['slipway.key'] ?? '', c, handleOf(c, DYNO_NETWORK));
      else if (c.State === 'running' && l['slipway.role'] === NETNS_ROLE && this.nets) this.nets.adopt(c);
      else
        await this.docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => {});
    }
    const clock = this.opts.clock ?? systemClock;
    this.adoptable.open(clock, this.opts.adoptWindowMs ?? 60_000);
    this.timer = every(clock, this.opts.memoryPollMs ?? 5000, () => void this.sampleMemory());
    // OOM in a process that is not the container's main one: Heroku's R15 ends the whole dyno.
    const events = await this.docker.getEvents({
      filters: { type: ['container'], event: ['oom'], label: [`slipway.platform=${this.platformId}`] },
    });
    this.events = events;
    // The engine's own JSON, one event a line; a container's labels make it longer than a log line.
    lines(
      events,
      (line) => {
        try {
          const ev = JSON.parse(line) as { id?: string };
          const d = ev.id === undefined ? undefined : this.dynos.get(ev.id);
          if (d && !d.stopping) {
            d.reason = 'memory';
            void d.container.kill({ signal: 'SIGKILL' }).catch(() => {});
          }
        } catch {}
      },
      64 * 1024,
    );
    events.on('error', () => {});
  }

  private async ensureNetwork(): Promise<string> {
    const net = this.docker.getNetwork(DYNO_NETWORK);
    let info: { IPAM?: { Config?: { Gateway?: string }[] } };
    try {
      info = await net.inspect();
    } catch {
      try {
        await this.docker.createNetwork({
          Name: DYNO_NETWORK,
          Driver: 'bridge',
          CheckDuplicate: true,
          Options: { 'com.docker.network.bridge.enable_icc': 'false' },
          Labels: { 'slipway.network': 'dynos' },
        });
      } catch (e) {
        // Another platform on this engine made it first.
        if (!/already exists/.test((e as Error).message)) throw e;
      }
      info = await net.inspect();
    }
    return info.IPAM?.Config?.[0]?.Gateway ?? '';
  }

  /** Start a web or worker dyno (or adopt the running container of an earlier platform process). */
  async start(spec: DynoSpec): Promise<DynoHandle> {
    await this.init();
    const key = specKey(spec);
    const old = this.adoptable.claim(key);
    if (old) {
      const adopted = await this.adopt(old, spec).catch(() => undefined);
      if (adopted) return adopted;
    }
    const port = spec.port ?? (spec.type === 'web' ? await this.freePort(spec.app) : undefined);
    const d = await this.launch(spec, `${spec.type}.${spec.index}`, port, key, undefined);
    return d.handle;
  }

  /** SIGTERM the dyno's process group, SIGKILL after `graceMs` (R12); resolves once it is gone. */
  async stop(handle: DynoHandle, graceMs: number): Promise<void> {
    const d = this.dynos.get(handle.id);
    if (!d) return;
    if (!d.stopping) {
      d.stopping = true;
      await d.container.kill({ signal: graceMs > 0 ? 'SIGTERM' : 'SIGKILL' }).catch(() => {});
      if (graceMs > 0) {
        // On the platform's clock (R12 is Heroku's 30 s; a test's manual clock moves it at once).
        let cancel = () => {};
        const timer = new Promise<'timeout'>((r) => {
          cancel = (this.opts.clock ?? systemClock).setTimeout(() => r('timeout'), graceMs).cancel;
        });
        const ended = await Promise.race([d.exited.then(() => 'gone' as const), timer]);
        cancel();
        if (ended === 'timeout') {
          d.reason = 'stop-timeout';
          await d.container.kill({ signal: 'SIGKILL' }).catch(() => {});
        }
      }
    }
    await d.exited;
  }

  /** Start a one-off dyno (`run.N`, release phase): attached through the engine, or detached to the logs. */
  async runOnce(spec: OneOffSpec): Promise<OneOffSession> {
    await this.init();
    const n = randomInt(1000, 10_000);
    const attach = spec.attach ? { tty: spec.tty } : undefined;
    const d = await this.launch({ ...spec, index: n }, `${spec.type}.${n}`, undefined, undefined, attach);
    const { container } = d;
    return new RuntimeOneOffSession(d.handle, {
      ...(d.streams ? { streams: d.streams, idleTimeoutMs: spec.idleTimeoutMs } : {}),
      exit: d.exited,
      // tini passes a signal to the whole process group.
      kill: (signal) => void container.kill({ signal }).catch(() => {}),
      resize: (w, h) => void container.resize({ w, h }).catch(() => {}),
    });
  }

  /** The dynos this runtime runs now, and those of an earlier platform process not adopted yet. */
  async list(app?: string): Promise<DynoStatus[]> {
    await this.init();
    return this.adoptable.statuses(this.dynos.values(), app);
  }

  /** Stop every dyno (SIGTERM, SIGKILL after `graceMs`) and the samplers. */
  async close(graceMs = 10_000): Promise<void> {
    this.timer?.cancel();
    this.adoptable.close();
    (this.events as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    await Promise.all([...this.dynos.values()].map((d) => this.stop(d.handle, graceMs)));
    await this.nets?.close();
  }

  /** Remove a slug's images (no release runs it any more). */
  removeSlug(ref: DynoSpec['slug']): Promise<void> {
    return this.images.remove(ref);
  }

  /** The uid of an app's dynos: the app's own from the uid table (as its builds), never root, never shared. */
  async uidFor(app: string): Promise<number> {
    await this.init();
    return (await this.users.userFor(app)).uid;
  }

  // -------------------------------------------------------------------------------------------

  private async launch(
    spec: DynoSpec,
    dyno: string,
    port: number | undefined,
    key: string | undefined,
    attach: { tty?: { columns: number; rows: number } } | undefined,
  ): Promise<ContainerDyno> {
    const uid = (await this.users.userFor(spec.app)).uid;
    const image = await this.images.ensure(spec.slug, uid);
    const quotaBytes = spec.size.memoryMb * 1024 * 1024;
    const tty = attach?.tty !== undefined;
    let container: Docker.Container | undefined;
    let flushEarly = () => {};
    let netns: { id: string; host: string } | undefined;
    try {
      netns = await this.nets?.acquire(spec.app);
      container = await this.create(
        spec,
        uid,
        image,
        dynoContainerOptions({
          spec,
          dyno,
          port,
          key,
          attach,
          uid,
          labels: this.labels,
          ...(netns ? { netns } : {}),
          ...(this.ociRuntime.name ? { ociRuntime: this.ociRuntime.name } : {}),
          name: `slipway-${spec.app}-${dyno}-${this.platformId.slice(0, 6)}-${randomInt(1e6, 1e7)}`,
          ...(this.opts.pidsLimit ? { pidsLimit: this.opts.pidsLimit } : {}),
        }),
      );
      const { stdout, stderr, stdin } = await attachStreams(
        this.docker,
        container,
        attach !== undefined,
        tty,
      );
      await container.start();
      const id = container.id;
      if (attach) {
        if (attach.tty) void container.resize({ w: attach.tty.columns, h: attach.tty.rows }).catch(() => {});
      } else {
        // Lines printed before the dyno is tracked (a quick release command) wait for it.
        const early: [string, string][] = [];
        const onLine = (stream: string) => (l: string) =>
          this.dynos.has(id) ? this.emitOutput(id, l, stream) : early.push([l, stream]);
        lines(stdout, onLine('stdout'));
        lines(stderr, onLine('stderr'));
        flushEarly = () => {
          for (const [l, stream] of early.splice(0)) this.emitOutput(id, l, stream);
        };
      }
      const host =
        netns?.host ?? (await container.inspect()).NetworkSettings.Networks[DYNO_NETWORK]?.IPAddress;
      const handle: DynoHandle = {
        id,
        app: spec.app,
        release: spec.release,
        type: spec.type,
        index: spec.index,
        ...(port !== undefined && host ? { host, port } : {}),
        startedAt: Date.now(),
      };
      if (netns) this.inNetns.add(id);
      const d = this.track(handle, container, quotaBytes, !key);
      if (attach) d.streams = { stdout, stderr, stdin };
      flushEarly();
      return d;
    } catch (e) {
      if (container) await container.remove({ force: true }).catch(() => {});
      if (netns) this.nets?.release(spec.app);
      throw dynoErrors.SLIPWAY_ERR_DYNO_SPAWN(
        { app: spec.app, dyno, detail: (e as Error).message, dataDir: this.opts.dataDir },
        { cause: e },
      );
    }
  }

  /** Create the container; an image removed behind our back (another platform's cleanup) is made again once. */
  private async create(
    spec: DynoSpec,
    uid: number,
    image: string,
    o: Docker.ContainerCreateOptions,
  ): Promise<Docker.Container> {
    try {
      return await this.docker.createContainer({ ...o, Image: image });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
      this.images.forget(image);
      const again = await this.images.ensure(spec.slug, uid);
      return this.docker.createContainer({ ...o, Image: again });
    }
  }

  /** Take over a running container of an earlier platform process: its logs from now on, its exit. */
  private async adopt(c: Docker.ContainerInfo, spec: DynoSpec): Promise<DynoHandle | undefined> {
    const container = this.docker.getContainer(c.Id);
    const info = await container.inspect();
    if (!info.State.Running) return undefined;
    const inNetns = c.Labels['slipway.host'];
    if (inNetns && !this.nets?.joinAdopted(spec.app, inNetns)) {
      // Its app's namespace is gone with its holder: the dyno is cut off, a new one replaces it.
      await container.remove({ force: true }).catch(() => {});
      return undefined;
    }
    if (inNetns) this.inNetns.add(c.Id);
    const handle: DynoHandle = { ...handleOf(c, DYNO_NETWORK), release: spec.release, startedAt: Date.now() };
    // Its output from now on (attached: no log driver keeps a copy, see docker-container.ts).
    const { stdout, stderr } = await attachStreams(this.docker, container, false, false);
    lines(stdout, (l) => this.emitOutput(c.Id, l, 'stdout'));
    lines(stderr, (l) => this.emitOutput(c.Id, l, 'stderr'));
    this.track(handle, container, spec.size.memoryMb * 1024 * 1024, false);
    return handle;
  }

  /** A port for a new web dyno of `app`: in its app's shared namespace, one no dyno of the app has. */
  private async freePort(app: string): Promise<number> {
    const taken = new Set((await this.list(app)).map((d) => d.port));
    for (;;) {
      const port = randomInt(10_000, 60_000);
      if (!taken.has(port)) return port;
    }
  }

  private emitOutput(id: string, line: string, stream: string): void {
    const d = this.dynos.get(id);
    if (d) this.emit('output', d.handle, line, stream);
  }

  /** Watch a container until it exits; then report the exit and remove it. */
  private track(
    handle: DynoHandle,
    container: Docker.Container,
    quotaBytes: number,
    oneOff: boolean,
  ): ContainerDyno {
    let done!: (exit: DynoExit) => void;
    const d: ContainerDyno = {
      handle,
      container,
      quotaBytes,
      stopping: false,
      oneOff,
      exited: new Promise((r) => (done = r)),
    };
    this.dynos.set(handle.id, d);
    void (async () => {
      let status = 1;
      try {
        status = ((await container.wait()) as { StatusCode: number }).StatusCode;
        const info = await container.inspect();
        if (info.State.OOMKilled && d.reason === undefined) d.reason = 'memory';
      } catch {
        // The engine lost the container: report it as gone.
      }
      await container.remove({ force: true }).catch(() => {});
      this.dynos.delete(handle.id);
      if (this.inNetns.delete(handle.id)) this.nets?.release(handle.app);
      const forced = d.reason !== undefined;
      const { code, signal } = forced ? { code: null, signal: 'SIGKILL' as const } : splitStatus(status);
      const exit: DynoExit = {
        status: forced ? 137 : status,
        code,
        signal,
        ...(d.reason ? { reason: d.reason } : {}),
      };
      this.emit('exit', handle, exit.code, exit.signal, exit);
      done(exit);
    })();
    return d;
  }

  /** R14: the container's memory use against its quota, from the engine's cgroup. */
  private async sampleMemory(): Promise<void> {
    for (const d of [...this.dynos.values()]) {
      const used = await cgroupMemory(d.handle.id);
      if (used !== undefined && this.dynos.has(d.handle.id))
        this.emit('memory', d.handle, used, d.quotaBytes);
    }
  }
}
