/** `access`, `access:add`, `access:remove`, `apps:transfer` (Heroku's names) and `audit`. */
import type { ApiAuditEvent, ApiCollaborator } from '@slipway/runtime';
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
import type { CommandModule } from './index.js';

const path = (o: ClientOptions, rest = '') => `/apps/${encodeURIComponent(requireApp(o))}${rest}`;

/** Access verbs. */
export const accessCommands: CommandModule = {
  register(program: Command) {
    appVerb(program.command('access').description("list the app's owner and collaborators")).action(
      async (o: ClientOptions) => {
        const xs = await clientFor(o).json<ApiCollaborator[]>('GET', path(o, '/collaborators'));
        if (printJson(o, xs)) return;
        out(`=== ${requireApp(o)} Access`);
        table(xs.map((x) => [x.user.email, x.role]));
      },
    );
    appVerb(
      program
        .command('access:add')
        .argument('<email>', 'the user')
        .description('give a user access to the app'),
    ).action(async (email: string, o: ClientOptions) => {
      const x = await clientFor(o).json('POST', path(o, '/collaborators'), { user: email });
      if (printJson(o, x)) return;
      out(`Adding ${email} access to the app ${requireApp(o)}... done`);
    });
    appVerb(
      program
        .command('access:remove')
        .argument('<email>', 'the user')
        .description("take a user's access away"),
    ).action(async (email: string, o: ClientOptions) => {
      const x = await clientFor(o).json('DELETE', path(o, `/collaborators/${encodeURIComponent(email)}`));
      if (printJson(o, x)) return;
      out(`Removing ${email} access from the app ${requireApp(o)}... done`);
    });
    appVerb(
      program
        .command('apps:transfer')
        .argument('<email>', 'the new owner')
        .description('make another user the owner (you stay a collaborator)'),
    ).action(async (email: string, o: ClientOptions) => {
      const x = await clientFor(o).json('POST', path(o, '/transfers'), { recipient: email });
      if (printJson(o, x)) return;
      out(`Transferring ${requireApp(o)} to ${email}... done`);
    });
    platformVerb(
      program
        .command('audit')
        .description('who did what: changes and sign-ins, newest first (your apps; all for the admin)')
        .option('-a, --app <app>', 'only this app')
        .option('-n, --num <n>', 'how many events', '50'),
    ).action(async (o: ClientOptions & { num: string }) => {
      const q = new URLSearchParams({ n: o.num, ...(o.app ? { app: o.app } : {}) });
      const es = await clientFor(o).json<ApiAuditEvent[]>('GET', `/audit?${q}`);
      if (printJson(o, es)) return;
      table(es.map((e) => [e.at, e.actor ?? '-', e.action, e.app ?? '', String(e.status)]));
    });
  },
};
