/**
 * `releases`, `releases:info [vN]`, `releases:output [vN]` (what the release phase printed)
 * and `releases:rollback [vN]` (`rollback`).
 */
import type { ApiRelease } from '@slipway/runtime';
import type { Command } from 'commander';
import { appVerb, type ClientOptions, clientFor, out, printJson, requireApp, table } from '../api-client.js';
import type { CommandModule } from './index.js';

const base = (o: ClientOptions) => `/apps/${encodeURIComponent(requireApp(o))}/releases`;

/** The release a verb is about: the one given (v5, 5 or an id), else the newest. */
async function releaseOf(o: ClientOptions, version?: string): Promise<ApiRelease> {
  const c = clientFor(o);
  if (version) return c.json<ApiRelease>('GET', `${base(o)}/${encodeURIComponent(version)}`);
  const all = await c.json<ApiRelease[]>('GET', base(o));
  const newest = all[all.length - 1];
  if (!newest) return c.json<ApiRelease>('GET', `${base(o)}/v1`); // the API's coded 404 says what to do
  return newest;
}

const state = (r: ApiRelease) =>
  r.status === 'succeeded' ? (r.current ? 'current' : 'succeeded') : r.status;

/** Release verbs. */
export const releasesCommands: CommandModule = {
  register(program: Command) {
    appVerb(program.command('releases').description('list releases, newest first')).action(
      async (o: ClientOptions) => {
        const rs = await clientFor(o).json<ApiRelease[]>('GET', base(o));
        if (printJson(o, rs)) return;
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
      },
    );
    appVerb(
      program
        .command('releases:info')
        .argument('[release]', 'v5, 5 or a release id; default the newest')
        .description('show one release: description, status, slug, config var names'),
    ).action(async (version: string | undefined, o: ClientOptions) => {
      const r = await releaseOf(o, version);
      if (printJson(o, r)) return;
      out(`=== Release v${r.version}`);
      table([
        ['Change:', r.description],
        ['Status:', state(r)],
        ['When:', r.created_at],
        ['Slug:', r.slug?.id ?? '(none)'],
        ...(r.error ? [['Error:', r.error]] : []),
      ]);
      out();
      out(`=== v${r.version} Config vars`);
      out(r.config_vars.length ? r.config_vars.join(', ') : '(none)');
    });
    appVerb(
      program
        .command('releases:output')
        .argument('[release]', 'v5, 5 or a release id; default the newest')
        .description(
          "show what the release's release phase (Procfile `release:`) printed, following it while it runs",
        ),
    ).action(async (version: string | undefined, o: ClientOptions) => {
      const r = await releaseOf(o, version);
      // While the release phase runs, the platform streams its lines as they come.
      const lines: string[] = [];
      await clientFor(o).lines(`${base(o)}/${r.id}/output`, (l) => {
        lines.push(l);
        if (!o.json) out(l);
      });
      if (printJson(o, { release: { id: r.id, version: r.version }, output: lines.join('\n') })) return;
      if (!lines.length)
        out(`v${r.version} has no release phase output (its slug has no \`release:\` process).`);
    });
    appVerb(
      program
        .command('releases:rollback')
        .alias('rollback')
        .argument('[version]', 'release to roll back to (v5 or 5); default: the one before the current')
        .description('make a new release with the slug and config of an earlier one'),
    ).action(async (version: string | undefined, o: ClientOptions) => {
      const r = await clientFor(o).json<ApiRelease>(
        'POST',
        base(o),
        version ? { release: version } : {},
        `Rolling back ${requireApp(o)}`,
      );
      if (printJson(o, r)) return;
      out(`${r.description}... done, v${r.version}`);
    });
  },
};
