/** `domains`, `domains:add HOST`, `domains:remove HOST`, and `maintenance[:on|:off]`. */
import type { ApiApp, ApiDomain } from '@slipway/runtime';
import type { Command } from 'commander';
import { appVerb, type ClientOptions, clientFor, out, printJson, requireApp, table } from '../api-client.js';
import type { CommandModule } from './index.js';

/** Custom domain and maintenance verbs. */
export const domainsCommands: CommandModule = {
  register(program: Command) {
    appVerb(program.command('domains').description("list an app's domains")).action(
      async (o: ClientOptions) => {
        const app = requireApp(o);
        const c = clientFor(o);
        const [a, ds] = await Promise.all([
          c.json<ApiApp>('GET', `/apps/${encodeURIComponent(app)}`),
          c.json<ApiDomain[]>('GET', `/apps/${encodeURIComponent(app)}/domains`),
        ]);
        if (printJson(o, ds)) return;
        out(`=== ${app} Platform Domain`);
        out(new URL(a.web_url).hostname);
        out();
        out(`=== ${app} Custom Domains`);
        if (!ds.length) return out('(none: add one with `slipway domains:add HOST`)');
        table([['Domain Name', 'Added'], ...ds.map((d) => [d.hostname, d.created_at])]);
      },
    );
    appVerb(
      program
        .command('domains:add')
        .argument('<hostname>')
        .description('route a custom host name to the app'),
    ).action(async (hostname: string, o: ClientOptions) => {
      const app = requireApp(o);
      const d = await clientFor(o).json<ApiDomain>('POST', `/apps/${encodeURIComponent(app)}/domains`, {
        hostname,
      });
      if (printJson(o, d)) return;
      out(`Adding ${d.hostname} to ${app}... done`);
      out(`Point ${d.hostname} at this platform's router; requests with that Host reach ${app}.`);
    });
    appVerb(
      program.command('domains:remove').argument('<hostname>').description('stop routing a custom host name'),
    ).action(async (hostname: string, o: ClientOptions) => {
      const app = requireApp(o);
      const d = await clientFor(o).json<ApiDomain>(
        'DELETE',
        `/apps/${encodeURIComponent(app)}/domains/${encodeURIComponent(hostname)}`,
      );
      if (printJson(o, d)) return;
      out(`Removing ${hostname.toLowerCase()} from ${app}... done`);
    });
    appVerb(program.command('maintenance').description('show whether the app is in maintenance mode')).action(
      async (o: ClientOptions) => {
        const a = await clientFor(o).json<ApiApp>('GET', `/apps/${encodeURIComponent(requireApp(o))}`);
        if (printJson(o, { maintenance: a.maintenance })) return;
        out(a.maintenance ? 'on' : 'off');
      },
    );
    for (const on of [true, false])
      appVerb(
        program
          .command(`maintenance:${on ? 'on' : 'off'}`)
          .description(
            on ? 'serve the H80 maintenance page instead of the app' : 'route requests to the app again',
          ),
      ).action(async (o: ClientOptions) => {
        const app = requireApp(o);
        const a = await clientFor(o).json<ApiApp>('PATCH', `/apps/${encodeURIComponent(app)}`, {
          maintenance: on,
        });
        if (printJson(o, { maintenance: a.maintenance })) return;
        out(`${on ? 'Enabling' : 'Disabling'} maintenance mode for ${app}... done`);
      });
  },
};
