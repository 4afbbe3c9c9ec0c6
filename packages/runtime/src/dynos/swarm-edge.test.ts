/**
 * The Swarm edge's fence on the host, with the real engine, gateway and iptables: from the edge
 * gateway's network namespace (where every dyno's connection to the platform arrives from), the
 * host answers on a socket bound to the edge address (the slug server, the rendezvous, add-on
 * servers) and not on one bound to every address (the API or router started with
 * `--host 0.0.0.0`, sshd, the swarm's ports); setting the edge up again adds no rule twice and
 * restores the order when a rule went missing; a restarted gateway (as an engine restart
 * restarts it) is seen to have lost its rules, and setting the edge up again restores them.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { expect } from 'chai';
import Docker from 'dockerode';
import { DEFAULT_STACK } from '../stack/stack-packages.js';
import { requireStackImage } from './docker-container.js';
import { edgeIntact, ensureSwarmEdge, type SwarmEdge } from './swarm-edge.js';
import { requireSwarm } from './swarm-test-kit.test-helper.js';

const run = promisify(execFile);

describe('swarm edge fence (what of the host dynos reach)', function () {
  this.timeout(120_000);
  const docker = new Docker();
  const image = `slipway/stack:${DEFAULT_STACK}`;
  const name = `slipway-edge-test-${randomBytes(4).toString('hex')}`;
  let edge: SwarmEdge;
  const servers: Server[] = [];
  let bound = 0;
  let wildcard = 0;

  const serve = (host: string) =>
    new Promise<number>((resolve) => {
      const s = createServer((c) => c.end('yes\n')).listen(0, host, () =>
        resolve((s.address() as { port: number }).port),
      );
      servers.push(s);
    });
  /** Whether a connection from the gateway's namespace to the host's edge address at `port` is answered. */
  const reach = async (port: number) => {
    const pid = (await docker.getContainer(edge.container).inspect()).State.Pid;
    return run('nsenter', [
      `--net=/proc/${pid}/ns/net`,
      'timeout',
      '3',
      'bash',
      '-c',
      `exec 3<>/dev/tcp/${edge.hostAddress}/${port} && head -1 <&3`,
    ]).then(
      (r) => r.stdout.trim() === 'yes',
      () => false,
    );
  };
  const inputRules = async () =>
    (await run('iptables', ['-w', '-S', 'INPUT'])).stdout
      .split('\n')
      .filter((l) => l.includes('slipway-edge0'));

  before(async function () {
    await requireSwarm(this, 'swarm edge fence');
    await requireStackImage(docker, image, DEFAULT_STACK);
    edge = await ensureSwarmEdge(docker, image, { 'slipway.test': 'swarm-edge' }, name);
    bound = await serve(edge.hostAddress);
    wildcard = await serve('0.0.0.0');
  });
  after(async () => {
    for (const s of servers) s.close();
    await docker
      .getContainer(name)
      .remove({ force: true })
      .catch(() => {});
  });

  it('answers a socket bound to the edge address, not one bound to every address', async () => {
    expect(await reach(bound), 'the edge-bound listener').to.equal(true);
    expect(await reach(wildcard), 'the wildcard listener').to.equal(false);
  });

  it('sets each rule once, and all again in their order when one went missing', async () => {
    await ensureSwarmEdge(docker, image, { 'slipway.test': 'swarm-edge' }, name);
    const rules = await inputRules();
    expect(rules).to.have.length(2);
    expect(rules[0]).to.include('-m socket').and.include('ACCEPT');
    // Someone flushed the ACCEPT: nothing of the platform answers dynos any more...
    await run('iptables', ['-w', '-D', ...rules[0]!.replace(/^-A /, '').split(' ')]);
    expect(await reach(bound)).to.equal(false);
    // ...until the edge is set up again (the runtime's start, or its check of the gateway).
    await ensureSwarmEdge(docker, image, { 'slipway.test': 'swarm-edge' }, name);
    expect(await inputRules()).to.deep.equal(rules);
    expect(await reach(bound)).to.equal(true);
    expect(await reach(wildcard)).to.equal(false);
  });

  it('sees a restarted gateway without its rules, and sets them again', async () => {
    const forwardPolicy = async () => {
      const pid = (await docker.getContainer(edge.container).inspect()).State.Pid;
      const { stdout } = await run('nsenter', [
        `--net=/proc/${pid}/ns/net`,
        'iptables',
        '-w',
        '-S',
        'FORWARD',
      ]);
      return stdout.split('\n')[0];
    };
    expect(await edgeIntact(docker, edge)).to.equal(true);
    expect(await forwardPolicy()).to.equal('-P FORWARD DROP');
    await docker.getContainer(edge.container).restart({ t: 0 });
    expect(await edgeIntact(docker, edge)).to.equal(false);
    expect(await forwardPolicy()).to.equal('-P FORWARD ACCEPT');
    edge = await ensureSwarmEdge(docker, image, { 'slipway.test': 'swarm-edge' }, name);
    expect(await edgeIntact(docker, edge)).to.equal(true);
    expect(await forwardPolicy()).to.equal('-P FORWARD DROP');
    expect(await reach(bound)).to.equal(true);
  });
});
