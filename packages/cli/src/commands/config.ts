/** `config`, `config:get`, `config:set K=V…`, `config:unset K…`: each change is a release. */
import { parseConfigAssignments } from '@slipway/core';
import type { Command } from 'commander';
import { type ClientOptions, clientFor, out, requireApp, table } from '../api-client.js';
import type { CommandModule } from './index.js';

/** Config var verbs. */
export const configCommands: CommandModule = {
  register(program: Command) {
    const path = (o: ClientOptions) => `/apps/${encodeURIComponent(requireApp(o))}/config-vars`;
    program
      .command('config')
      .description('show config vars')
      .option('-a, --app <app>', 'app name')
      .option('--json', 'print JSON')
      .option('--shell', 'print KEY=value lines')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (o: ClientOptions & { shell?: boolean }) => {
        const vars = await clientFor(o).json<Record<string, string>>('GET', path(o));
        if (o.json) return out(JSON.stringify(vars, null, 2));
        if (o.shell) {
          for (const [k, v] of Object.entries(vars)) out(`${k}=${v}`);
          return;
        }
        out(`=== ${requireApp(o)} Config Vars`);
        table(Object.entries(vars).map(([k, v]) => [`${k}:`, v]));
      });
    program
      .command('config:get')
      .argument('<key>')
      .description('print one config var')
      .option('-a, --app <app>', 'app name')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (key: string, o: ClientOptions) => {
        const vars = await clientFor(o).json<Record<string, string>>('GET', path(o));
        out(vars[key] ?? '');
      });
    program
      .command('config:set')
      .argument('<assignments...>', 'KEY=value …')
      .description('set config vars (creates a release and restarts dynos)')
      .option('-a, --app <app>', 'app name')
      .option('--json', 'print JSON')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (words: string[], o: ClientOptions) => {
        const changes = parseConfigAssignments(words);
        const vars = await clientFor(o).json<Record<string, string>>('PATCH', path(o), changes);
        if (o.json) return out(JSON.stringify(vars, null, 2));
        out(`Setting ${Object.keys(changes).join(', ')} and restarting ${requireApp(o)}... done`);
      });
    program
      .command('config:unset')
      .argument('<keys...>')
      .description('unset config vars (creates a release and restarts dynos)')
      .option('-a, --app <app>', 'app name')
      .option('--json', 'print JSON')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (keys: string[], o: ClientOptions) => {
        const vars = await clientFor(o).json<Record<string, string>>(
          'PATCH',
          path(o),
          Object.fromEntries(keys.map((k) => [k, null])),
        );
        if (o.json) return out(JSON.stringify(vars, null, 2));
        out(`Unsetting ${keys.join(', ')} and restarting ${requireApp(o)}... done`);
      });
  },
};
