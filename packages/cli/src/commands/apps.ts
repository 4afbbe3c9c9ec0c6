/** `apps`, `apps:create`, `apps:destroy`, `apps:info` and `open`. */
import type { Command } from 'commander';
import { type ClientOptions, clientFor, out, requireApp, table } from '../api-client.js';
import { createFromManifest, type ManifestOptions } from './app-setup.js';
import type { CommandModule } from './index.js';

/** App verbs. */
export const appsCommands: CommandModule = {
  register(program: Command) {
    program
      .command('apps')
      .description('list apps')
      .option('--json', 'print JSON')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (o: ClientOptions) => {
        const apps = await clientFor(o).json<any[]>('GET', '/apps');
        if (o.json) return out(JSON.stringify(apps, null, 2));
        if (!apps.length) return out('No apps yet. Create one with `slipway apps:create NAME`.');
        table([
          ['NAME', 'RELEASE', 'URL'],
          ...apps.map((a) => [a.name, a.current_release ? `v${a.current_release.version}` : '-', a.web_url]),
        ]);
      });
    program
      .command('apps:create')
      .alias('create-app')
      .argument('<name>', 'app name: a-z first, then a-z, 0-9, - (2–30 characters)')
      .description('create an app')
      .option('--manifest <file>', 'create it from an app.json (env, buildpacks, formation, add-ons)')
      .option('--env <assignments...>', 'with --manifest: KEY=value for app.json env')
      .option('--json', 'print JSON')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (name: string, o: ManifestOptions) => {
        if (o.manifest) return createFromManifest(name, o);
        const a = await clientFor(o).json('POST', '/apps', { name });
        if (o.json) return out(JSON.stringify(a, null, 2));
        out(`Creating ${a.name}... done`);
        out(a.web_url);
      });
    program
      .command('apps:destroy')
      .description('destroy an app, its dynos, releases and add-ons')
      .option('-a, --app <app>', 'app name')
      .option('--confirm <app>', 'the app name again, to confirm')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (o: ClientOptions & { confirm?: string }) => {
        const app = requireApp(o);
        if (o.confirm !== app) {
          process.stderr.write(
            ` !     This destroys ${app} and all its data. Run again with --confirm ${app}\n`,
          );
          process.exitCode = 1;
          return;
        }
        await clientFor(o).json('DELETE', `/apps/${encodeURIComponent(app)}`);
        out(`Destroying ${app}... done`);
      });
    program
      .command('apps:info')
      .description('show an app')
      .option('-a, --app <app>', 'app name')
      .option('--json', 'print JSON')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (o: ClientOptions) => {
        const a = await clientFor(o).json('GET', `/apps/${encodeURIComponent(requireApp(o))}`);
        if (o.json) return out(JSON.stringify(a, null, 2));
        table([
          ['Name:', a.name],
          ['Web URL:', a.web_url],
          ['Release:', a.current_release ? `v${a.current_release.version}` : '(none)'],
          ['Created:', a.created_at],
        ]);
      });
    program
      .command('open')
      .description("print (and open, when a desktop is available) the app's URL")
      .option('-a, --app <app>', 'app name')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (o: ClientOptions) => {
        const a = await clientFor(o).json('GET', `/apps/${encodeURIComponent(requireApp(o))}`);
        out(a.web_url);
        if (process.env.DISPLAY && process.stdout.isTTY) {
          const { spawn } = await import('node:child_process');
          spawn('xdg-open', [a.web_url], { stdio: 'ignore', detached: true })
            .on('error', () => {})
            .unref();
        }
      });
  },
};
