/** `releases` and `rollback [vN]`. */
import type { Command } from 'commander';
import { type ClientOptions, clientFor, out, requireApp, table } from '../api-client.js';
import type { CommandModule } from './index.js';

/** Release verbs. */
export const releasesCommands: CommandModule = {
  register(program: Command) {
    program
      .command('releases')
      .description('list releases, newest first')
      .option('-a, --app <app>', 'app name')
      .option('--json', 'print JSON')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (o: ClientOptions) => {
        const rs = await clientFor(o).json<any[]>(
          'GET',
          `/apps/${encodeURIComponent(requireApp(o))}/releases`,
        );
        if (o.json) return out(JSON.stringify(rs, null, 2));
        out(`=== ${requireApp(o)} Releases`);
        table(
          rs
            .slice()
            .reverse()
            .map((r) => [
              `v${r.version}`,
              r.description,
              r.user?.email ?? '',
              r.status === 'succeeded' ? (r.current ? 'current' : '') : r.status,
              r.created_at,
            ]),
        );
      });
    program
      .command('rollback')
      .argument('[version]', 'release to roll back to (v5 or 5); default: the one before the current')
      .description('make a new release with the slug and config of an earlier one')
      .option('-a, --app <app>', 'app name')
      .option('--json', 'print JSON')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (version: string | undefined, o: ClientOptions) => {
        const r = await clientFor(o).json(
          'POST',
          `/apps/${encodeURIComponent(requireApp(o))}/releases`,
          version ? { release: version } : {},
        );
        if (o.json) return out(JSON.stringify(r, null, 2));
        out(`${r.description}... done, v${r.version}`);
      });
  },
};
