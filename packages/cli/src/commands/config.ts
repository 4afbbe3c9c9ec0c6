/**
 * `config`, `config:get KEY`, `config:set K=V…` (`config:add`), `config:unset K…`
 * (`config:remove`): each change is a release.
 */
import { parseConfigAssignments } from '@slipway/core';
import type { Command } from 'commander';
import { appVerb, type ClientOptions, clientFor, out, printJson, requireApp, table } from '../api-client.js';
import type { CommandModule } from './index.js';

type ConfigOptions = ClientOptions & { shell?: boolean };

/** A value quoted for a POSIX shell when it needs it (`config --shell`, as Heroku's). */
function shellValue(v: string): string {
  return /^[\w@%+=:,./-]*$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

/** Config var verbs. */
export const configCommands: CommandModule = {
  register(program: Command) {
    const path = (o: ClientOptions) => `/apps/${encodeURIComponent(requireApp(o))}/config-vars`;
    appVerb(program.command('config').description('show config vars'))
      .option('-s, --shell', 'print KEY=value lines for a shell')
      .action(async (o: ConfigOptions) => {
        const vars = await clientFor(o).json<Record<string, string>>('GET', path(o));
        if (printJson(o, vars)) return;
        if (o.shell) {
          for (const [k, v] of Object.entries(vars)) out(`${k}=${shellValue(v)}`);
          return;
        }
        out(`=== ${requireApp(o)} Config Vars`);
        table(Object.entries(vars).map(([k, v]) => [`${k}:`, v]));
      });
    appVerb(program.command('config:get').argument('<key>').description('print one config var'))
      .option('-s, --shell', 'print KEY=value')
      .action(async (key: string, o: ConfigOptions) => {
        const vars = await clientFor(o).json<Record<string, string>>('GET', path(o));
        if (printJson(o, { [key]: vars[key] ?? null })) return;
        out(o.shell ? `${key}=${shellValue(vars[key] ?? '')}` : (vars[key] ?? ''));
      });
    appVerb(
      program
        .command('config:set')
        .alias('config:add')
        .argument('<assignments...>', 'KEY=value …')
        .description('set config vars (creates a release and restarts dynos)'),
    ).action(async (words: string[], o: ClientOptions) => {
      const changes = parseConfigAssignments(words);
      const app = requireApp(o);
      const names = Object.keys(changes).join(', ');
      const vars = await clientFor(o).json<Record<string, string>>(
        'PATCH',
        path(o),
        changes,
        `Setting ${names} and restarting ${app}`,
      );
      if (printJson(o, vars)) return;
      out(`Setting ${names} and restarting ${app}... done`);
    });
    appVerb(
      program
        .command('config:unset')
        .alias('config:remove')
        .argument('<keys...>')
        .description('unset config vars (creates a release and restarts dynos)'),
    ).action(async (keys: string[], o: ClientOptions) => {
      const app = requireApp(o);
      const vars = await clientFor(o).json<Record<string, string>>(
        'PATCH',
        path(o),
        Object.fromEntries(keys.map((k) => [k, null])),
        `Unsetting ${keys.join(', ')} and restarting ${app}`,
      );
      if (printJson(o, vars)) return;
      out(`Unsetting ${keys.join(', ')} and restarting ${app}... done`);
    });
  },
};
