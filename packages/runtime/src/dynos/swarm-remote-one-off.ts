/**
 * A one-off dyno on a node other than the manager: a one-task service placed there, since the
 * manager's engine cannot attach to a container on another node. Attached, its stdio is a
 * connection it opens back to the platform (swarm-rendezvous.ts): stdout and stderr come as one
 * stream, a terminal is a pty `script` makes in the dyno (swarm-service.ts), sized once at
 * start, and any signal ends it as Swarm stops a task (SIGTERM, SIGKILL after the grace).
 * Detached, its output comes from the service's logs. Its exit status is its task's, read by
 * its own watcher (not the runtime's poll: a one-off may end before it was ever seen running).
 */
import { PassThrough } from 'node:stream';
import type { DynoHandle, DynoSpec, OneOffSession, OneOffSpec } from '@slipway/core';
import type Docker from 'dockerode';
import { RuntimeOneOffSession } from './one-off-session.js';
import type { SwarmNodes } from './swarm-placement.js';
import type { Rendezvous } from './swarm-rendezvous.js';
import type { SwarmDyno } from './swarm-runtime.js';
import { dynoHandle, ENDED, latest, type Task } from './swarm-tasks.js';

/** What a one-off on another node needs of the Swarm runtime. */
export interface RemoteOneOffHost {
  docker: Docker;
  nodes: SwarmNodes;
  rendezvous: Rendezvous;
  placeTimeoutMs: number;
  createService(o: {
    spec: DynoSpec;
    env: Record<string, string>;
    labels: Record<string, string>;
    network: string;
    constraints: string[];
  }): Promise<Docker.Service>;
  track(handle: DynoHandle, service: Docker.Service): SwarmDyno;
  tracked(d: SwarmDyno): boolean;
  serviceLogs(d: SwarmDyno, service: Docker.Service, since: number): Promise<{ ended: Promise<unknown> }>;
  stop(handle: DynoHandle): Promise<void>;
  end(d: SwarmDyno, status: number): void;
  /** A line of the platform's about the dyno, to its log (stderr). */
  output(handle: DynoHandle, line: string): void;
}

/** Start a one-off on `nodeId`; resolves once it is attached (or at once, detached). */
export async function runRemoteOneOff(
  host: RemoteOneOffHost,
  o: {
    spec: DynoSpec & OneOffSpec;
    dyno: string;
    nodeId: string;
    network: string;
    env: Record<string, string>;
  },
): Promise<OneOffSession> {
  const { spec } = o;
  const call = spec.attach ? host.rendezvous.expect(host.placeTimeoutMs) : undefined;
  const service = await host.createService({
    spec,
    env: {
      ...o.env,
      ...(call ? { SLIPWAY_RENDEZVOUS: `${host.rendezvous.address}:${call.secret}` } : {}),
      ...(call && spec.tty
        ? { SLIPWAY_PTY: '1', SLIPWAY_TTY_SIZE: `rows ${spec.tty.rows} cols ${spec.tty.columns}` }
        : {}),
    },
    labels: { 'slipway.role': 'one-off', 'slipway.app': spec.app, 'slipway.type': spec.type },
    network: o.network,
    constraints: [`node.id==${o.nodeId}`],
  });
  const handle = dynoHandle(service.id, spec, { node: host.nodes.name(o.nodeId) });
  const d = host.track(handle, service);
  void watch(host, d, service, call?.cancel);
  const kill = () => void host.stop(handle);
  if (!call) return new RuntimeOneOffSession(handle, { exit: d.exited, kill, resize: () => {} });
  const socket = await call.socket.catch(async (e: Error) => {
    await host.stop(handle);
    throw e;
  });
  socket.on('error', () => {});
  const stderr = new PassThrough();
  stderr.end();
  return new RuntimeOneOffSession(handle, {
    streams: { stdout: socket, stderr, stdin: socket },
    idleTimeoutMs: spec.idleTimeoutMs,
    exit: d.exited,
    kill,
    resize: () => {},
  });
}

/** Follow a one-off task to its end: its logs when detached, its exit status, a lost node. */
async function watch(
  host: RemoteOneOffHost,
  d: SwarmDyno,
  service: Docker.Service,
  cancelCall?: (why: Error) => void,
): Promise<void> {
  const since = Math.floor(Date.now() / 1000) - 1;
  const deadline = Date.now() + host.placeTimeoutMs;
  let logsDone: Promise<unknown> | undefined;
  let started = false;
  const finish = async (status: number, why?: string) => {
    if (why) {
      host.output(d.handle, why);
      cancelCall?.(new Error(why));
    }
    await Promise.race([logsDone, new Promise((r) => setTimeout(r, 3000))]);
    await service.remove().catch(() => {});
    host.end(d, status);
  };
  while (host.tracked(d)) {
    try {
      await host.nodes.refresh();
      const t = latest((await host.docker.listTasks({ filters: { service: [service.id] } })) as Task[]);
      const state = t?.Status?.State ?? '';
      if (!started && (state === 'running' || ENDED.has(state))) {
        started = true;
        if (!cancelCall) logsDone = host.serviceLogs(d, service, since).then((l) => l.ended);
      }
      if (!t) {
        if (d.stopping) return await finish(143);
      } else if (ENDED.has(state)) {
        const code = t.Status?.ContainerStatus?.ExitCode;
        return await finish(
          code ?? (d.stopping ? 143 : 1),
          code === undefined && !d.stopping
            ? `Swarm ended the task (${state}): ${t.Status?.Err ?? 'no reason given'}`
            : undefined,
        );
      } else if (t.NodeID && host.nodes.isDown(t.NodeID)) return await finish(137, 'its node went down');
      if (state !== 'running' && !ENDED.has(state) && Date.now() > deadline)
        return await finish(
          1,
          `no node ran the task within ${host.placeTimeoutMs / 1000} s (last state ${state || 'none'})`,
        );
    } catch {
      // The engine did not answer this time; look again.
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
