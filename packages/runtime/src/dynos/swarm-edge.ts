/**
 * The Swarm runtime's network edge: how the platform (router, slug server, add-on servers), a
 * process on the manager's host, meets dynos that live on overlay networks spanning every node,
 * one overlay per app (swarm-app-networks.ts) so no app's dyno can reach another's. A host
 * process cannot join an overlay, so one small container on the manager (the edge gateway) sits
 * on a host-local bridge and on each app's overlay, with forwarding on:
 *   - host → dyno: the host routes each app's overlay subnet via the gateway, which masquerades
 *     onto that overlay, so the router reaches every task at its own overlay address on any
 *     node and per-dyno routing (quarantine, backlog, H-codes) works as on one machine;
 *   - dyno → platform: every TCP connection to the gateway's address on an app's overlay (the
 *     name `slipway-edge` there) is forwarded to the host's side of the bridge, so the slug
 *     server and add-on servers listening there are reached from every node, and nothing of the
 *     platform listens publicly;
 *   - nothing else: the gateway forwards nothing from one overlay to another (its FORWARD policy
 *     is DROP), and the host forwards no new connection into the edge bridge (only its own
 *     traffic, which is not forwarded, goes there), so a dyno cannot use the host's routes to
 *     the overlays to reach another app's dynos;
 *   - of the host, only what listens on the edge address itself: the gateway forwards every port
 *     of its overlay address to the host, so the host accepts a new connection from the edge
 *     bridge only for a socket bound to that address (the slug server, the rendezvous, add-on
 *     servers), never one bound to every address (the API or router started with
 *     `--host 0.0.0.0`, sshd, the swarm's own ports): iptables' `socket` match, which ignores
 *     such wildcard listeners.
 * The rules are set from the host (`nsenter` into the gateway's network namespace, `iptables`),
 * so the gateway's image needs no tools and the gateway runs with no capabilities.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type Docker from 'dockerode';

const run = promisify(execFile);

/** The host-local bridge between the platform and the edge gateway. */
export const EDGE_NETWORK = 'slipway-swarm-edge';
/** The gateway's name on every app overlay: dynos reach the platform's services there. */
export const EDGE_ALIAS = 'slipway-edge';

/** Where each side reaches the other. */
export interface SwarmEdge {
  /** The gateway's name on each app overlay (Docker's DNS answers its address on that overlay). */
  dynoHost: string;
  /** The host's address on the edge bridge: platform services listen here. */
  hostAddress: string;
  /** The gateway's address on the edge bridge: the host routes app overlays through it. */
  gatewayAddress: string;
  /** The gateway's container id. */
  container: string;
  /** Its process when its rules were set: a new one (the gateway or the engine restarted) has none. */
  pid: number;
}

/** What joining an app overlay made (undone by `leaveOverlay`). */
export interface EdgeJoin {
  network: string;
  subnet: string;
  /** The gateway's rules for this overlay (iptables arguments after the table and chain verb). */
  rules: string[][];
}

/** Create (or find) the edge bridge, the gateway container and its base rules; fence the bridge on the host. */
export async function ensureSwarmEdge(
  docker: Docker,
  stackImage: string,
  labels: Record<string, string>,
  name: string,
): Promise<SwarmEdge> {
  await ensureNetwork(docker, EDGE_NETWORK, {
    Driver: 'bridge',
    // A fixed device name: the host's fence rule (fenceBridge) stays the same one across re-creations.
    Options: { 'com.docker.network.bridge.name': 'slipway-edge0' },
    Labels: { 'slipway.network': 'swarm-edge' },
  });
  let gw = docker.getContainer(name);
  let info = await gw.inspect().catch(() => undefined);
  // A gateway of an earlier version sat on one overlay shared by every app: made again.
  if (!info?.State.Running || info.HostConfig.NetworkMode !== EDGE_NETWORK) {
    await gw.remove({ force: true }).catch(() => {});
    gw = await docker.createContainer({
      name,
      Image: stackImage,
      Cmd: ['sleep', 'infinity'],
      Labels: { ...labels, 'slipway.role': 'swarm-edge' },
      HostConfig: {
        NetworkMode: EDGE_NETWORK,
        Sysctls: { 'net.ipv4.ip_forward': '1' },
        CapDrop: ['ALL'],
        RestartPolicy: { Name: 'unless-stopped' },
      },
    });
    await gw.start();
    info = await gw.inspect();
  }
  const edge = info.NetworkSettings.Networks[EDGE_NETWORK];
  if (!edge?.IPAddress || !edge.Gateway)
    throw new Error(`edge gateway ${name} has no address on ${EDGE_NETWORK}`);
  const ns = nsOf(info.State.Pid);
  const ifEdge = await ifaceWith(ns, edge.IPAddress);
  const conntrack = (state: string) => ['-m', 'conntrack', '--ctstate', state, '-j', 'ACCEPT'];
  for (const r of [
    ['nat', 'POSTROUTING', '-o', ifEdge, '-j', 'MASQUERADE'],
    ['filter', 'FORWARD', ...conntrack('RELATED,ESTABLISHED')],
    // Into the overlays only from the host's side; out to the host only what was DNATed to it.
    ['filter', 'FORWARD', '-i', ifEdge, '-j', 'ACCEPT'],
    ['filter', 'FORWARD', '-o', ifEdge, ...conntrack('DNAT')],
  ])
    await rule(ns, ['-t', ...r]);
  await run('nsenter', [ns, 'iptables', '-w', '-P', 'FORWARD', 'DROP']);
  await fenceBridge(docker);
  return {
    dynoHost: EDGE_ALIAS,
    hostAddress: edge.Gateway,
    gatewayAddress: edge.IPAddress,
    container: info.Id,
    pid: info.State.Pid,
  };
}

/**
 * Whether the gateway still runs in the namespace its rules were set in: restarted (by the
 * engine's restart, or by hand) it runs in a new one without them, and then dynos reach
 * nothing of the platform and its FORWARD policy is the kernel's ACCEPT.
 */
export async function edgeIntact(docker: Docker, edge: SwarmEdge): Promise<boolean> {
  const info = await docker
    .getContainer(edge.container)
    .inspect()
    .catch(() => undefined);
  return Boolean(info?.State.Running) && info?.State.Pid === edge.pid;
}

/**
 * Connect the gateway to an app's overlay (as `slipway-edge`), masquerade onto it, forward
 * connections to its own address there to the host, and route the overlay's subnet through it.
 */
export async function joinOverlay(docker: Docker, edge: SwarmEdge, network: string): Promise<EdgeJoin> {
  const gw = docker.getContainer(edge.container);
  let info = await gw.inspect();
  if (!info.NetworkSettings.Networks[network]) {
    await docker
      .getNetwork(network)
      .connect({ Container: edge.container, EndpointConfig: { Aliases: [EDGE_ALIAS] } });
    info = await gw.inspect();
  }
  const address = info.NetworkSettings.Networks[network]?.IPAddress;
  if (!address) throw new Error(`edge gateway has no address on ${network}`);
  const subnet = (await docker.getNetwork(network).inspect()).IPAM?.Config?.[0]?.Subnet as string;
  const ns = nsOf(info.State.Pid);
  const ifOverlay = await ifaceWith(ns, address);
  const rules = [
    ['-t', 'nat', 'POSTROUTING', '-o', ifOverlay, '-j', 'MASQUERADE'],
    [
      '-t',
      'nat',
      'PREROUTING',
      '-i',
      ifOverlay,
      '-d',
      address,
      '-p',
      'tcp',
      '-j',
      'DNAT',
      '--to-destination',
      edge.hostAddress,
    ],
  ];
  for (const r of rules) await rule(ns, r);
  await run('ip', ['route', 'replace', subnet, 'via', edge.gatewayAddress]);
  return { network, subnet, rules };
}

/** Undo `joinOverlay`: the route, the gateway's rules for it, the gateway's endpoint. */
export async function leaveOverlay(docker: Docker, edge: SwarmEdge, join: EdgeJoin): Promise<void> {
  await dropRoute(join.subnet);
  const info = await docker
    .getContainer(edge.container)
    .inspect()
    .catch(() => undefined);
  if (info?.State.Running) {
    const ns = nsOf(info.State.Pid);
    for (const [, table, chain, ...spec] of join.rules)
      await run('nsenter', [ns, 'iptables', '-w', '-t', table!, '-D', chain!, ...spec]).catch(() => {});
  }
  await docker
    .getNetwork(join.network)
    .disconnect({ Container: edge.container, Force: true })
    .catch(() => {});
}

/** Remove the host's route to an overlay subnet. */
export async function dropRoute(subnet: string): Promise<void> {
  await run('ip', ['route', 'del', subnet]).catch(() => {});
}

/** Create a network unless it exists (another platform process may race to make it). */
export async function ensureNetwork(docker: Docker, name: string, o: Record<string, unknown>): Promise<void> {
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

/**
 * The host's rules for the edge bridge `dev`: it forwards no new connection into the bridge (the
 * router's connections to dynos start on the host, not forwarded, so anything else, a dyno's
 * packet sent to another app's overlay address through its node's default route or another
 * machine's, is dropped there), and takes a new connection from it only for a socket bound to
 * the edge address itself (`-m socket` ignores wildcard listeners). The forward rule goes in
 * Docker's own chain for such rules (DOCKER-USER) when it has one, else FORWARD.
 */
async function fenceRules(dev: string): Promise<{ chain: string; spec: string[] }[]> {
  const forward = await run('iptables', ['-w', '-n', '-L', 'DOCKER-USER'])
    .then(() => 'DOCKER-USER')
    .catch(() => 'FORWARD');
  const fresh = ['-m', 'conntrack', '--ctstate', 'NEW'];
  // In the order they are inserted at the top: the input ACCEPT ends above the input DROP.
  return [
    { chain: forward, spec: ['-o', dev, ...fresh, '-j', 'DROP'] },
    { chain: 'INPUT', spec: ['-i', dev, ...fresh, '-j', 'DROP'] },
    { chain: 'INPUT', spec: ['-i', dev, '-p', 'tcp', ...fresh, '-m', 'socket', '-j', 'ACCEPT'] },
  ];
}

/** The edge bridge's device on the host. */
async function bridgeDevice(docker: Docker): Promise<string> {
  const net = (await docker.getNetwork(EDGE_NETWORK).inspect()) as {
    Id: string;
    Options?: Record<string, string>;
  };
  return net.Options?.['com.docker.network.bridge.name'] ?? `br-${net.Id.slice(0, 12)}`;
}

/** Set the host's rules for the edge bridge (see `fenceRules`), each once and in their order. */
async function fenceBridge(docker: Docker): Promise<void> {
  const rules = await fenceRules(await bridgeDevice(docker));
  const ipt = (...args: string[]) =>
    run('iptables', ['-w', ...args]).then(
      () => true,
      () => false,
    );
  let all = true;
  for (const { chain, spec } of rules) all = (await ipt('-C', chain, ...spec)) && all;
  if (all) return;
  // One missing: all again, so no DROP is ever left above the ACCEPT it must follow.
  for (const { chain, spec } of rules) while (await ipt('-D', chain, ...spec));
  for (const { chain, spec } of rules)
    if (!(await ipt('-I', chain, ...spec))) throw new Error(`iptables -I ${chain} ${spec.join(' ')} failed`);
}

const nsOf = (pid: number) => `--net=/proc/${pid}/ns/net`;

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
