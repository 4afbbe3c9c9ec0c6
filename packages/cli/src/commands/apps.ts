/**
 * `apps`, `apps:create [NAME]` (`create`), `apps:destroy` (`destroy`), `apps:info` (`info`),
 * `apps:rename NEWNAME` (`rename`) and `apps:open` (`open`), with Heroku's aliases.
 */
import type { ApiApp, ApiDyno } from '@slipway/runtime';
import type { Command } from 'commander';
import {
  appVerb,
  type ClientOptions,
  clientFor,
  out,
  platformVerb,
  printJson,
  requireApp,
  table,
} from '../api-client.js';
import type { AddonView } from './addons.js';
import { createFromManifest, type ManifestOptions } from './app-setup.js';
import { setGitRemote } from './git.js';
import type { CommandModule } from './index.js';

const appPath = (app: string) => `/apps/${encodeURIComponent(app)}`;

/** `apps:info`: the app with its add-ons, dynos and stack, as Heroku's shows it. */
async function appInfo(o: ClientOptions): Promise<void> {
  const app = requireApp(o);
  const c = clientFor(o);
  const [a, addons, dynos] = await Promise.all([
    c.json<ApiApp>('GET', appPath(app)),
    c.json<AddonView[]>('GET', `${appPath(app)}/addons`),
    c.json<ApiDyno[]>('GET', `${appPath(app)}/dynos`),
  ]);
  const counts = new Map<string, number>();
  for (const d of dynos) counts.set(d.type, (counts.get(d.type) ?? 0) + 1);
  if (printJson(o, { app: a, addons, dynos })) return;
  // As Heroku's: `build_stack` (the next build's) beside `stack` (the live slug's).
  const next = a.build_stack?.name;
  out(`=== ${a.name}`);
  table([
    ['Addons:', addons.map((x) => `${x.name} (${x.plan.name})`).join(', ') || '(none)'],
    ['Dynos:', [...counts].map(([t, n]) => `${t}: ${n}`).join(', ') || '(none)'],
    ['Git URL:', new URL(`/${a.name}.git`, c.creds.url).toString()],
    ['Maintenance:', a.maintenance ? 'on' : 'off'],
    ['Release:', a.current_release ? `v${a.current_release.version}` : '(none)'],
    [
      'Stack:',
      a.stack && next && next !== a.stack.name
        ? `${a.stack.name} (next build: ${next})`
        : (a.stack?.name ?? next ?? '(set by the first build)'),
    ],
    ['Web URL:', a.web_url],
    ['Created:', a.created_at],
  ]);
}

/** App verbs. */
export const appsCommands: CommandModule = {
  register(program: Command) {
    platformVerb(program.command('apps').aliases(['apps:list', 'list']).description('list apps')).action(
      async (o: ClientOptions) => {
        const apps = await clientFor(o).json<ApiApp[]>('GET', '/apps');
        if (printJson(o, apps)) return;
        if (!apps.length) return out('No apps yet. Create one with `slipway create NAME`.');
        table([
          ['NAME', 'RELEASE', 'URL'],
          ...apps.map((a) => [a.name, a.current_release ? `v${a.current_release.version}` : '-', a.web_url]),
        ]);
      },
    );
    platformVerb(
      program
        .command('apps:create')
        .alias('create')
        .argument('[name]', 'app name: a-z first, then a-z, 0-9, - (2–30 characters); generated when absent')
        .description('create an app (named like "misty-meadow-1234" when no name is given)')
        .option('--manifest <file>', 'create it from an app.json (env, buildpacks, formation, add-ons)')
        .option(
          '-s, --stack <stack>',
          "the stack its builds and dynos run in (`slipway stacks`; default the platform's)",
        )
        .option('--env <assignments...>', 'with --manifest: KEY=value for app.json env')
        .option(
          '-r, --remote [name]',
          'also add a git remote for it (default name: slipway) in this repository',
        ),
    ).action(
      async (
        name: string | undefined,
        opts: Omit<ManifestOptions, 'remote'> & { remote?: string | true; stack?: string },
      ) => {
        const { remote: wanted, ...o } = opts;
        if (o.manifest) return createFromManifest(name, o);
        const client = clientFor(o);
        const body = { ...(name ? { name } : {}), ...(o.stack ? { stack: o.stack } : {}) };
        const a = await client.json<ApiApp>('POST', '/apps', body, 'Creating app');
        // Heroku's create adds its remote by itself; here it is asked for, so that running the CLI
        // inside some other repository (a checkout of Slipway, a test) never rewrites its remotes.
        const remoteName = wanted === true ? 'slipway' : wanted;
        const remote = remoteName ? await setGitRemote(client, a.name, remoteName) : undefined;
        if (printJson(o, { ...a, ...(remote ? { git_remote: { name: remoteName, url: remote } } : {}) }))
          return;
        out(`Creating ${a.name}... done${o.stack ? `, stack is ${o.stack}` : ''}`);
        out(`${a.web_url} | ${new URL(`/${a.name}.git`, client.creds.url)}`);
        if (remote) out(`Git remote ${remoteName} added`);
      },
    );
    appVerb(
      program
        .command('apps:destroy')
        .aliases(['destroy', 'apps:delete'])
        .argument('[app]', 'app to destroy (or -a APP)')
        .option('--confirm <app>', 'the app name again, to confirm')
        .description('destroy an app, its dynos, releases and add-ons'),
    ).action(async (positional: string | undefined, o: ClientOptions & { confirm?: string }) => {
      const app = requireApp({ ...o, app: o.app ?? positional });
      if (o.confirm !== app) {
        process.stderr.write(
          ` !     This destroys ${app} and all its data. Run again with --confirm ${app}\n`,
        );
        process.exitCode = 1;
        return;
      }
      const a = await clientFor(o).json<ApiApp>('DELETE', appPath(app), undefined, `Destroying ${app}`);
      if (printJson(o, a)) return;
      out(`Destroying ${app}... done`);
    });
    appVerb(
      program.command('apps:info').alias('info').description('show an app: add-ons, dynos, stack, URLs'),
    ).action(appInfo);
    appVerb(
      program
        .command('apps:rename')
        .alias('rename')
        .argument('<newname>', 'the new name (a-z first, then a-z, 0-9, -)')
        .description('rename an app (its URL and git remote change; dynos restart under the new name)'),
    ).action(async (newName: string, o: ClientOptions) => {
      const app = requireApp(o);
      const a = await clientFor(o).json<ApiApp>(
        'PATCH',
        appPath(app),
        { name: newName },
        `Renaming ${app} to ${newName}`,
      );
      if (printJson(o, a)) return;
      out(`Renaming ${app} to ${a.name}... done`);
      out(a.web_url);
      out(`Update a git remote with \`slipway git:remote -a ${a.name}\`.`);
    });
    appVerb(
      program
        .command('apps:open')
        .alias('open')
        .argument('[path]', 'path to open, e.g. /db')
        .description("print (and open, when a desktop is available) the app's URL"),
    ).action(async (path: string | undefined, o: ClientOptions) => {
      const a = await clientFor(o).json<ApiApp>('GET', appPath(requireApp(o)));
      const url = new URL(path ?? '/', a.web_url).toString();
      if (printJson(o, { url })) return;
      out(url);
      if (process.env.DISPLAY && process.stdout.isTTY) {
        const { spawn } = await import('node:child_process');
        spawn('xdg-open', [url], { stdio: 'ignore', detached: true })
          .on('error', () => {})
          .unref();
      }
    });
  },
};
