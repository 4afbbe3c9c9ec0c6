/**
 * What a dyno container of the Docker runtime is: its create options (the launcher under tini,
 * the app's uid, Heroku's filesystem, limits by size, the labels a restarted platform adopts it
 * by), and reading a container back (its handle, its memory use).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type DynoHandle, type DynoSpec, dynoLauncher } from '@slipway/core';
import type Docker from 'dockerode';
import { stackErrors } from '../stack/errors.js';

/** The network dynos join: a bridge with inter-container traffic off. */
export const DYNO_NETWORK = 'slipway-dynos';

/** Core's dyno launcher (`.profile.d`, then the command $1 with `bash -c`); the swarm boot execs it too. */
export const LAUNCHER = dynoLauncher([
  // The terminal size of an attached one-off, before anything reads it (a resize may come later).
  'if [ -n "$SLIPWAY_TTY_SIZE" ]; then stty $SLIPWAY_TTY_SIZE 2>/dev/null || true; fi; unset SLIPWAY_TTY_SIZE',
]);

/** What a dyno container is made of. */
export interface DynoContainerInput {
  spec: DynoSpec;
  /** `web.1`, `run.4242`. */
  dyno: string;
  port: number | undefined;
  /** Adoption key of a formation dyno; none for one-offs. */
  key: string | undefined;
  attach: { tty?: { columns: number; rows: number } } | undefined;
  uid: number;
  labels: Record<string, string>;
  name: string;
  pidsLimit?: number;
  /** The app's network namespace (docker-app-netns.ts) to join; none: an endpoint of its own. */
  netns?: { id: string; host: string };
  /** The OCI runtime (`crun`); none: the engine's default. */
  ociRuntime?: string;
}

/**
 * The engine's create options for a dyno: tini as PID 1 passing signals to the process group,
 * the app's uid, `HOME=/app`, cwd `/app`, memory at twice the quota without swap, CPU shares
 * and pids by size, no capabilities, no new privileges, the dyno network, adoption labels.
 */
export function dynoContainerOptions(o: DynoContainerInput): Docker.ContainerCreateOptions {
  const { spec, dyno, port, key, attach, uid } = o;
  const quotaBytes = spec.size.memoryMb * 1024 * 1024;
  const env: Record<string, string> = {
    HOME: '/app',
    ...spec.env,
    DYNO: dyno,
    ...(port !== undefined ? { PORT: String(port) } : {}),
    ...(attach?.tty ? { SLIPWAY_TTY_SIZE: `rows ${attach.tty.rows} cols ${attach.tty.columns}` } : {}),
  };
  return {
    name: o.name,
    Entrypoint: ['/usr/bin/tini', '-g', '-s', '--'],
    Cmd: ['bash', '-c', LAUNCHER, 'slipway-dyno', spec.command],
    User: `${uid}:${uid}`,
    WorkingDir: '/app',
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Tty: attach?.tty !== undefined,
    OpenStdin: attach !== undefined,
    StdinOnce: attach !== undefined,
    AttachStdin: attach !== undefined,
    AttachStdout: true,
    AttachStderr: true,
    Labels: {
      ...o.labels,
      'slipway.role': key ? 'dyno' : 'one-off',
      'slipway.app': spec.app,
      'slipway.release': String(spec.release),
      'slipway.type': spec.type,
      'slipway.index': String(spec.index),
      ...(port !== undefined ? { 'slipway.port': String(port) } : {}),
      ...(key ? { 'slipway.key': key } : {}),
      // Where the router reaches it: a dyno in its app's namespace has no address of its own.
      ...(o.netns ? { 'slipway.host': o.netns.host } : {}),
    },
    HostConfig: {
      NetworkMode: o.netns ? `container:${o.netns.id}` : DYNO_NETWORK,
      ...(o.ociRuntime ? { Runtime: o.ociRuntime } : {}),
      Memory: 2 * quotaBytes,
      MemorySwap: 2 * quotaBytes,
      CpuShares: Math.max(2, Math.round((1024 * spec.size.memoryMb) / 512)),
      PidsLimit: o.pidsLimit ?? Math.max(256, Math.round(spec.size.memoryMb / 2)),
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Init: false,
      ShmSize: 64 * 1024 * 1024,
      // The platform reads the output through its attachment (its log hub); a log driver would
      // keep a second copy on the engine's disk, unbounded, and write every line twice.
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}

/** What makes a dyno the same one after a restart: app, release, slot, slug, command, env, size. */
export function specKey(spec: DynoSpec): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        spec.app,
        spec.release,
        spec.type,
        spec.index,
        spec.slug.checksum,
        spec.command,
        spec.env,
        spec.size,
      ]),
    )
    .digest('hex')
    .slice(0, 32);
}

/** The handle of a listed container, from its labels and its address on `network`. */
export function handleOf(c: Docker.ContainerInfo, network: string): DynoHandle {
  const l = c.Labels;
  const host = c.NetworkSettings?.Networks?.[network]?.IPAddress || l['slipway.host'];
  const port = l['slipway.port'] ? Number(l['slipway.port']) : undefined;
  return {
    id: c.Id,
    app: l['slipway.app'] ?? '',
    release: Number(l['slipway.release']),
    type: l['slipway.type'] ?? '',
    index: Number(l['slipway.index']),
    ...(port !== undefined && host ? { host, port } : {}),
    startedAt: c.Created * 1000,
  };
}

/** Memory in use by a container, read from its cgroup (v1 or v2, cgroupfs or systemd driver). */
export async function cgroupMemory(id: string): Promise<number | undefined> {
  for (const f of [
    `/sys/fs/cgroup/memory/docker/${id}/memory.usage_in_bytes`,
    `/sys/fs/cgroup/docker/${id}/memory.current`,
    `/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.current`,
  ]) {
    const text = await readFile(f, 'utf8').catch(() => undefined);
    if (text !== undefined) return Number(text.trim());
  }
  return undefined;
}

/** The platform's id in labels: a digest of its data dir (one engine may serve several platforms). */
export function platformIdOf(dataDir: string): string {
  return createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
}

/** `docker`, or the local engine (DOCKER_HOST or /var/run/docker.sock). */
export async function engineOr(docker: Docker | undefined): Promise<Docker> {
  if (docker) return docker;
  const { default: Dockerode } = await import('dockerode');
  return new Dockerode();
}

/** Fail with a coded error unless the engine holds the stack image. */
export async function requireStackImage(docker: Docker, image: string, stack: string): Promise<void> {
  try {
    await docker.getImage(image).inspect();
  } catch (e) {
    throw stackErrors.SLIPWAY_ERR_STACK_NO_IMAGE({ image, stack }, { cause: e });
  }
}
