/**
 * The nodes of the swarm the `swarm` runtime spreads dynos over, for `slipway nodes`: list
 * them with their dynos, drain one (Swarm stops the dynos there with SIGTERM and places none
 * there; the dyno manager restarts them on the other nodes), remove one, and the command that adds
 * a node. Talks to the manager's engine directly, as `stack:build` does: nodes belong to the
 * machine's operator, not to an app.
 */
import type Docker from 'dockerode';
import { engineOr, platformIdOf } from './docker-container.js';
import { dynoErrors } from './errors.js';

/** One node as `slipway nodes` shows it. */
export interface SwarmNodeInfo {
  id: string;
  hostname: string;
  address: string;
  role: 'manager' | 'worker';
  /** `ready`, `down`, … as Swarm reports it. */
  state: string;
  /** `active`, `pause` or `drain`. */
  availability: string;
  /** Running dyno tasks of the platform of `dataDir` on this node. */
  dynos: number;
}

type NodeRecord = {
  ID: string;
  Version: { Index: number };
  Spec: Record<string, unknown> & { Role?: string; Availability?: string };
  Description?: { Hostname?: string };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Addr?: string };
};

/** The swarm's nodes, and the engine's join command for a new worker. */
export async function listSwarmNodes(
  dataDir: string,
  docker?: Docker,
): Promise<{ nodes: SwarmNodeInfo[]; join: string }> {
  const engine = await engineOr(docker);
  const nodes = (await engine.listNodes().catch((e) => {
    throw notManager(e);
  })) as NodeRecord[];
  const tasks = (await engine.listTasks({ filters: { 'desired-state': ['running'] } })) as {
    NodeID?: string;
    ServiceID: string;
  }[];
  const services = await engine.listServices({
    filters: { label: [`slipway.platform=${platformIdOf(dataDir)}`] },
  });
  const mine = new Set(services.map((s) => s.ID));
  const swarm = (await engine.swarmInspect()) as { JoinTokens: { Worker: string } };
  const manager = nodes.find((n) => n.ManagerStatus?.Addr)?.ManagerStatus?.Addr ?? '<manager address>:2377';
  return {
    nodes: nodes.map((n) => ({
      id: n.ID,
      hostname: n.Description?.Hostname ?? '',
      address: n.Status?.Addr ?? '',
      role: n.Spec.Role === 'manager' ? 'manager' : 'worker',
      state: n.Status?.State ?? 'unknown',
      availability: n.Spec.Availability ?? 'active',
      dynos: tasks.filter((t) => t.NodeID === n.ID && mine.has(t.ServiceID)).length,
    })),
    join: `docker swarm join --token ${swarm.JoinTokens.Worker} ${manager}`,
  };
}

/** Set a node's availability (`drain` moves new placements away, `active` takes them again). */
export async function setNodeAvailability(
  node: string,
  availability: 'active' | 'drain' | 'pause',
  docker?: Docker,
): Promise<void> {
  const engine = await engineOr(docker);
  const n = (await engine
    .getNode(node)
    .inspect()
    .catch((e) => {
      throw notFound(node, e);
    })) as NodeRecord;
  await engine.getNode(n.ID).update({ version: n.Version.Index, ...n.Spec, Availability: availability });
}

/** Remove a node from the swarm (`force` also for one that is still up). */
export async function removeSwarmNode(node: string, force: boolean, docker?: Docker): Promise<void> {
  const engine = await engineOr(docker);
  await engine
    .getNode(node)
    .remove({ force })
    .catch((e) => {
      throw (e as { statusCode?: number }).statusCode === 404
        ? notFound(node, e)
        : dynoErrors.SLIPWAY_ERR_DYNO_NODE({ node, detail: (e as Error).message }, { cause: e });
    });
}

function notFound(node: string, cause: unknown) {
  return dynoErrors.SLIPWAY_ERR_DYNO_NODE({ node, detail: 'no such node in this swarm' }, { cause });
}

function notManager(cause: unknown) {
  return dynoErrors.SLIPWAY_ERR_DYNO_NODE(
    { node: 'this engine', detail: (cause as Error).message },
    { cause },
  );
}
