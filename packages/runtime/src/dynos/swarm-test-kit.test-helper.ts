/**
 * A two-node Docker Swarm on one machine, for the Swarm runtime's tests: the local engine is the
 * manager, and a second engine runs beside it in its own network namespace (a veth pair links
 * the two; `ip netns exec` cannot run dockerd in a container, `nsenter --net` can). The stack
 * image is copied into the second engine (no registry); its data root is kept under
 * /var/cache/slipway/swarm-node so the copy is made once per machine. `close()` removes the
 * second engine, the namespace and the link, and leaves the swarm if it made it, whatever
 * state the test left; an exit handler does the same if the process dies first.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { DEFAULT_STACK } from '../stack/stack-packages.js';
import { dockerUnavailable } from './docker-test-kit.test-helper.js';

/** Where the second engine keeps its images between runs. */
const NODE_CACHE = '/var/cache/slipway/swarm-node';

/** A running two-node swarm. */
export interface TwoNodeSwarm {
  manager: Docker;
  worker: Docker;
  workerNodeId: string;
  /** The second node's address: `ps` names its dynos' node with it (both engines share a hostname). */
  workerAddress: string;
  /** Stop the second engine (its dynos die with it; the manager sees the node go down). */
  stopWorker(): Promise<void>;
  /** Remove everything this made. */
  close(): Promise<void>;
}

/** Why a two-node swarm cannot be made here, or undefined. */
export async function swarmUnavailable(): Promise<string | undefined> {
  const why = await dockerUnavailable();
  if (why) return why;
  if (process.getuid?.() !== 0) return 'a second engine in a network namespace needs root';
  for (const tool of ['ip', 'nsenter', 'dockerd', 'iptables'])
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is missing (iproute2, util-linux, docker.io, iptables)`;
    }
  return undefined;
}

/** Skip the suite loudly (or fail under CI=true) when a two-node swarm cannot be made. */
export async function requireSwarm(ctx: Mocha.Context, suite: string): Promise<void> {
  const why = await swarmUnavailable();
  if (!why) return;
  if (process.env.CI === 'true') throw new Error(`${suite}: ${why}`);
  console.warn(`\n  !!! SKIPPED ${suite}: ${why}\n`);
  ctx.skip();
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
const quiet = (cmd: string, args: string[]) => {
  try {
    sh(cmd, args);
  } catch {}
};

/** Make the two-node swarm: namespace, link, second engine, swarm (init or reuse), join, stack image. */
export async function startTwoNodeSwarm(): Promise<TwoNodeSwarm> {
  const id = randomInt(0x1000, 0xffff).toString(16);
  const ns = `slw-${id}`;
  const [hostIf, nsIf] = [`slw${id}h`, `slw${id}n`];
  const net = `10.231.${randomInt(0, 256)}.${randomInt(0, 64) * 4}`;
  const base = net.split('.').map(Number);
  const hostAddr = `${base[0]}.${base[1]}.${base[2]}.${base[3]! + 1}`;
  const nodeAddr = `${base[0]}.${base[1]}.${base[2]}.${base[3]! + 2}`;
  const run = mkdtempSync(join(tmpdir(), 'slipway-swarm-node-'));
  const sock = join(run, 'docker.sock');
  const manager = new Docker();
  let dockerd: ChildProcess | undefined;
  let initedSwarm = false;
  let workerNodeId = '';

  const cleanupSync = () => {
    if (dockerd && dockerd.exitCode === null) dockerd.kill('SIGKILL');
    // A killed engine leaves its network namespaces mounted under its exec root.
    for (const f of (() => {
      try {
        return readdirSync(join(run, 'exec', 'netns'));
      } catch {
        return [];
      }
    })())
      quiet('umount', ['-l', join(run, 'exec', 'netns', f)]);
    quiet('ip', ['link', 'del', hostIf]);
    quiet('ip', ['netns', 'del', ns]);
    if (initedSwarm) {
      quiet('docker', ['swarm', 'leave', '--force']);
      // The networks Swarm and the runtime's edge left on this engine.
      quiet('docker', ['network', 'rm', 'docker_gwbridge', 'slipway-swarm-edge']);
      // And the runtime's fence on the host for the edge bridge (swarm-edge.ts).
      quiet('iptables', [
        '-w',
        '-D',
        'DOCKER-USER',
        '-o',
        'slipway-edge0',
        '-m',
        'conntrack',
        '--ctstate',
        'NEW',
        '-j',
        'DROP',
      ]);
    }
    rmSync(run, { recursive: true, force: true });
  };
  // Interrupted (Ctrl-C, a CI timeout): clean up, then die of the signal as usual.
  const onSignal = (sig: NodeJS.Signals) => {
    cleanupSync();
    process.kill(process.pid, sig);
  };
  process.once('exit', cleanupSync);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const unhook = () => {
    process.removeListener('exit', cleanupSync);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };

  const stopWorker = async () => {
    if (!dockerd || dockerd.exitCode !== null) return;
    const d = dockerd;
    const gone = new Promise((r) => d.once('exit', r));
    d.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 20_000))]);
    if (d.exitCode === null) d.kill('SIGKILL');
  };

  try {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    sh('ip', ['link', 'set', nsIf, 'netns', ns]);
    sh('ip', ['addr', 'add', `${hostAddr}/30`, 'dev', hostIf]);
    sh('ip', ['link', 'set', hostIf, 'up']);
    const inNs = (args: string[]) => sh('nsenter', [`--net=/run/netns/${ns}`, ...args]);
    inNs(['ip', 'addr', 'add', `${nodeAddr}/30`, 'dev', nsIf]);
    inNs(['ip', 'link', 'set', nsIf, 'up']);
    inNs(['ip', 'link', 'set', 'lo', 'up']);
    inNs(['ip', 'route', 'add', 'default', 'via', hostAddr]);

    // Swarm state of an earlier run would make the engine rejoin a swarm that is gone.
    mkdirSync(NODE_CACHE, { recursive: true });
    rmSync(join(NODE_CACHE, 'data', 'swarm'), { recursive: true, force: true });
    const log = openSync(join(run, 'dockerd.log'), 'a');
    dockerd = spawn(
      'nsenter',
      [
        `--net=/run/netns/${ns}`,
        'dockerd',
        '--data-root',
        join(NODE_CACHE, 'data'),
        '--exec-root',
        join(run, 'exec'),
        '-H',
        `unix://${sock}`,
        '--pidfile',
        join(run, 'docker.pid'),
        '--bridge',
        'none',
        // Its own firewall in its namespace, as a real node's (docker_gwbridge without
        // inter-container traffic: dynos of two apps on one node cannot meet there).
      ],
      { stdio: ['ignore', log, log] },
    );
    const worker = new Docker({ socketPath: sock });
    await until(() => worker.ping().then(() => true), 60_000, 'the second engine did not answer');

    // The manager: this engine. A swarm left by an earlier run (its address is gone) is replaced.
    const info = await manager.info();
    const addrs = sh('ip', ['-o', '-4', 'addr', 'show']).toString();
    const current = info.Swarm?.NodeAddr as string | undefined;
    let managerAddr: string;
    if (info.Swarm?.LocalNodeState === 'active' && current && addrs.includes(` ${current}/`)) {
      managerAddr = current;
    } else {
      if (info.Swarm?.LocalNodeState === 'active') await manager.swarmLeave({ force: true });
      await manager.swarmInit({ ListenAddr: `${hostAddr}:2377`, AdvertiseAddr: hostAddr });
      initedSwarm = true;
      managerAddr = hostAddr;
    }
    const swarm = (await manager.swarmInspect()) as { JoinTokens: { Worker: string } };
    await worker.swarmJoin({
      ListenAddr: `${nodeAddr}:2377`,
      AdvertiseAddr: nodeAddr,
      RemoteAddrs: [`${managerAddr}:2377`],
      JoinToken: swarm.JoinTokens.Worker,
    });
    workerNodeId = ((await worker.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID;

    const image = `slipway/stack:${DEFAULT_STACK}`;
    const has = await worker
      .getImage(image)
      .inspect()
      .then(() => true)
      .catch(() => false);
    if (!has) {
      const tar = await manager.getImage(image).get();
      const loaded = await worker.loadImage(tar);
      await new Promise((resolve, reject) =>
        worker.modem.followProgress(loaded, (e) => (e ? reject(e) : resolve(undefined))),
      );
    }
    await until(
      async () => {
        const n = await manager.getNode(workerNodeId).inspect();
        return (n as { Status?: { State?: string } }).Status?.State === 'ready';
      },
      30_000,
      'the second node did not become ready',
    );
  } catch (e) {
    cleanupSync();
    unhook();
    throw e;
  }

  return {
    manager,
    worker: new Docker({ socketPath: sock }),
    workerNodeId,
    workerAddress: nodeAddr,
    stopWorker,
    async close() {
      await stopWorker();
      await manager
        .getNode(workerNodeId)
        .remove({ force: true })
        .catch(() => {});
      cleanupSync();
      unhook();
    },
  };
}

async function until(fn: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > end) throw new Error(what);
    await new Promise((r) => setTimeout(r, 300));
  }
}
