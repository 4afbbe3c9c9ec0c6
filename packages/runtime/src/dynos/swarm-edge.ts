/**
 * The Swarm runtime's network edge: how the platform (router, slug server, add-on servers), a
 * process on the manager's host, meets dynos that live on an overlay network spanning every
 * node. A host process cannot join an overlay, so one small container on the manager (the edge
 * gateway) sits on both the overlay and a host-local bridge, with forwarding on:
 *   - host → dyno: the host routes the overlay subnet via the gateway, which masquerades onto
 *     the overlay, so the router reaches every task at its own overlay address on any node and
 *     per-dyno routing (quarantine, backlog, H-codes) works as on one machine;
 *   - dyno → platform: every TCP connection to the gateway's overlay address is forwarded to the
 *     host's side of the bridge, so the slug server (and add-on servers listening there) are
 *     reached from every node over the overlay, and nothing of the platform listens publicly.
 * The rules are set from the host (`nsenter` into the gateway's network namespace, `iptables`),
 * so the gateway's image needs no tools and the gateway runs with no capabilities.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type Docker from 'dockerode';

const run = promisify(execFile);

/** The overlay network of the platform's dynos (attachable: one-offs on the manager join it). */
export const SWARM_NETWORK = 'slipway-swarm';
/** The host-local bridge between the platform and the edge gateway. */
export const EDGE_NETWORK = 'slipway-swarm-edge';

/** Where each side reaches the other. */
export interface SwarmEdge {
  /** The overlay subnet (CIDR) the host routes through the gateway. */
  subnet: string;
  /** The gateway's overlay address: dynos reach the platform's services here. */
  overlayAddress: string;
  /** The host's address on the edge bridge: platform services listen here. */
  hostAddress: string;
}

/** Create (or find) the overlay, the edge bridge, the gateway container, its rules and the host route. */
export async function ensureSwarmEdge(
  docker: Docker,
  stackImage: string,
  labels: Record<string, string>,
  name: string,
): Promise<SwarmEdge> {
  await ensureNetwork(docker, SWARM_NETWORK, {
    Driver: 'overlay',
    Attachable: true,
    // Per-dyno addresses, no load-balancing VIPs: the router does the balancing.
    Labels: { 'slipway.network': 'swarm' },
  });
  await ensureNetwork(docker, EDGE_NETWORK, {
    Driver: 'bridge',
    Labels: { 'slipway.network': 'swarm-edge' },
  });
  let gw = docker.getContainer(name);
  let info = await gw.inspect().catch(() => undefined);
  if (!info?.State.Running) {
    await gw.remove({ force: true }).catch(() => {});
    gw = await docker.createContainer({
      name,
      Image: stackImage,
      Cmd: ['sleep', 'infinity'],
      Labels: { ...labels, 'slipway.role': 'swarm-edge' },
      HostConfig: {
        NetworkMode: SWARM_NETWORK,
        Sysctls: { 'net.ipv4.ip_forward': '1' },
        CapDrop: ['ALL'],
        RestartPolicy: { Name: 'unless-stopped' },
      },
    });
    await docker.getNetwork(EDGE_NETWORK).connect({ Container: gw.id });
    await gw.start();
    info = await gw.inspect();
  }
  const nets = info.NetworkSettings.Networks;
  const overlay = nets[SWARM_NETWORK];
  const edge = nets[EDGE_NETWORK];
  if (!overlay?.IPAddress || !edge?.IPAddress || !edge.Gateway)
    throw new Error(`edge gateway ${name} has no address on ${SWARM_NETWORK} or ${EDGE_NETWORK}`);
  const subnet = (await docker.getNetwork(SWARM_NETWORK).inspect()).IPAM?.Config?.[0]?.Subnet as string;
  const ns = `--net=/proc/${info.State.Pid}/ns/net`;
  const ifOverlay = await ifaceWith(ns, overlay.IPAddress);
  const ifEdge = await ifaceWith(ns, edge.IPAddress);
  await rule(ns, ['-t', 'nat', 'POSTROUTING', '-o', ifOverlay, '-j', 'MASQUERADE']);
  await rule(ns, ['-t', 'nat', 'POSTROUTING', '-o', ifEdge, '-j', 'MASQUERADE']);
  await rule(ns, [
    '-t',
    'nat',
    'PREROUTING',
    '-i',
    ifOverlay,
    '-d',
    overlay.IPAddress,
    '-p',
    'tcp',
    '-j',
    'DNAT',
    '--to-destination',
    edge.Gateway,
  ]);
  await run('ip', ['route', 'replace', subnet, 'via', edge.IPAddress]);
  return { subnet, overlayAddress: overlay.IPAddress, hostAddress: edge.Gateway };
}

/** Remove the host route (the gateway and networks stay for the next start). */
export async function dropSwarmRoute(subnet: string): Promise<void> {
  await run('ip', ['route', 'del', subnet]).catch(() => {});
}

async function ensureNetwork(docker: Docker, name: string, o: Record<string, unknown>): Promise<void> {
  try {
    await docker.getNetwork(name).inspect();
  } catch {
    try {
      await docker.createNetwork({ Name: name, CheckDuplicate: true, ...o });
    } catch (e) {
      if (!/already exists/.test((e as Error).message)) throw e;
    }
  }
}

/** The interface of the gateway's namespace holding `address`. */
async function ifaceWith(ns: string, address: string): Promise<string> {
  const { stdout } = await run('nsenter', [ns, 'ip', '-o', '-4', 'addr', 'show']);
  for (const line of stdout.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(line);
    if (m && m[2] === address) return m[1]!.replace(/@.*/, '');
  }
  throw new Error(`no interface holds ${address} in the edge gateway`);
}

/** Append an iptables rule in the gateway's namespace unless it is there already. */
async function rule(ns: string, [, table, chain, ...spec]: string[]): Promise<void> {
  const args = ['-t', table!, chain!, ...spec];
  const ok = await run('nsenter', [ns, 'iptables', '-w', ...args.slice(0, 2), '-C', ...args.slice(2)])
    .then(() => true)
    .catch(() => false);
  if (!ok) await run('nsenter', [ns, 'iptables', '-w', ...args.slice(0, 2), '-A', ...args.slice(2)]);
}
