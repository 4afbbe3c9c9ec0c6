/** `drains`, `drains:add URL`, `drains:remove URL|ID`: log drains of an app. */
import type { ApiDrain } from '@slipway/runtime';
import type { Command } from 'commander';
import { appVerb, type ClientOptions, clientFor, out, printJson, requireApp, table } from '../api-client.js';
import type { CommandModule } from './index.js';

/** Log drain verbs. */
export const drainsCommands: CommandModule = {
  register(program: Command) {
    appVerb(program.command('drains').description("list an app's log drains")).action(
      async (o: ClientOptions) => {
        const app = requireApp(o);
        const ds = await clientFor(o).json<ApiDrain[]>('GET', `/apps/${encodeURIComponent(app)}/log-drains`);
        if (printJson(o, ds)) return;
        if (!ds.length) return out(`${app} has no log drains.`);
        out('=== Drains');
        table(ds.map((d) => [d.url, `(${d.token})`]));
      },
    );
    appVerb(
      program
        .command('drains:add')
        .argument('<url>', 'https://…, http://…, syslog://host:port or syslog+tls://host:port')
        .description("send the app's logs to a drain (5 at most)"),
    ).action(async (url: string, o: ClientOptions) => {
      const app = requireApp(o);
      const d = await clientFor(o).json<ApiDrain>('POST', `/apps/${encodeURIComponent(app)}/log-drains`, {
        url,
      });
      if (printJson(o, d)) return;
      out(`Successfully added drain ${d.url} (token ${d.token})`);
    });
    appVerb(
      program
        .command('drains:remove')
        .argument('<url-or-id>', 'the drain URL or id')
        .description('remove a log drain'),
    ).action(async (which: string, o: ClientOptions) => {
      const app = requireApp(o);
      const d = await clientFor(o).json<ApiDrain>(
        'DELETE',
        `/apps/${encodeURIComponent(app)}/log-drains/${encodeURIComponent(which)}`,
      );
      if (printJson(o, d)) return;
      out(`Successfully removed drain ${d.url}`);
    });
  },
};
