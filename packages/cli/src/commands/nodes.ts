/**
 * `slipway nodes` (list, with the join command for a new node), `nodes:drain NODE`,
 * `nodes:activate NODE` and `nodes:remove NODE`: the Docker Swarm nodes the `swarm` dyno
 * runtime places dynos on. Run on the manager, against its engine (no API), as `stack:build` is.
 */
import type { Command } from 'commander';
import { defaultDataDir, out, printJson } from '../api-client.js';
import type { CommandModule } from './index.js';

/** The node verbs. */
export const nodesCommands: CommandModule = {
  register(program: Command) {
    program
      .command('nodes')
      .description('list the swarm nodes dynos run on (swarm runtime), and how to add one')
      .option('--data-dir <dir>', 'platform data dir, to count its dynos per node')
      .option('--json', 'print JSON')
      .action(async (o: { dataDir?: string; json?: boolean }) => {
        const { listSwarmNodes } = await import('@slipway/runtime');
        const r = await listSwarmNodes(o.dataDir ?? defaultDataDir());
        if (printJson(o, r)) return;
        out('=== nodes');
        for (const n of r.nodes)
          out(
            `${n.id.slice(0, 12)}  ${n.hostname.padEnd(16)} ${n.address.padEnd(15)} ${n.role.padEnd(7)} ${n.state.padEnd(7)} ${n.availability.padEnd(6)} ${n.dynos} dyno(s)`,
          );
        out();
        out('Add a node: install docker.io there, load the stack image');
        out('(docker save slipway/stack:slipway-13 | ssh NODE docker load), then run on it:');
        out(`  ${r.join}`);
      });
    for (const [verb, availability, what] of [
      [
        'drain',
        'drain',
        'move dynos off NODE: Swarm stops them there (SIGTERM) and they restart on the other nodes',
      ],
      ['activate', 'active', 'place dynos on NODE again'],
    ] as const)
      program
        .command(`nodes:${verb} <node>`)
        .description(what)
        .option('--json', 'print JSON')
        .action(async (node: string, o: { json?: boolean }) => {
          const { setNodeAvailability } = await import('@slipway/runtime');
          await setNodeAvailability(node, availability);
          if (printJson(o, { node, availability })) return;
          out(`Node ${node}: ${availability}`);
        });
    program
      .command('nodes:remove <node>')
      .description('remove NODE from the swarm (drain it and stop its engine first, or --force)')
      .option('--force', 'remove a node that is still up')
      .option('--json', 'print JSON')
      .action(async (node: string, o: { force?: boolean; json?: boolean }) => {
        const { removeSwarmNode } = await import('@slipway/runtime');
        await removeSwarmNode(node, o.force === true);
        if (printJson(o, { node, removed: true })) return;
        out(`Node ${node} removed`);
      });
  },
};
