/** `mail [MESSAGE_ID] -a APP`: the messages the app sent through its mail add-on. */
import type { Command } from 'commander';
import {
  addonVerb,
  type ClientOptions,
  clientFor,
  out,
  printJson,
  requireApp,
  table,
} from '../api-client.js';
import type { CommandModule } from './index.js';

interface MessageView {
  id: string;
  date?: string;
  receivedAt?: string;
  from?: string;
  to?: string;
  subject?: string;
  text?: string;
  html?: string;
}

/** The mail verb. */
export const mailCommands: CommandModule = {
  register(program: Command) {
    addonVerb(
      program
        .command('mail')
        .argument('[message]', 'show this message (id from the list)')
        .description('list the mail an app sent through its mail add-on, or show one message'),
      'mail',
    ).action(async (id: string | undefined, o: ClientOptions & { addon?: string }) => {
      const q = o.addon ? `?addon=${encodeURIComponent(o.addon)}` : '';
      const path = `/apps/${encodeURIComponent(requireApp(o))}/mail`;
      if (id) {
        const m = await clientFor(o).json<MessageView>('GET', `${path}/${encodeURIComponent(id)}${q}`);
        if (printJson(o, m)) return;
        table([
          ['From:', m.from ?? ''],
          ['To:', m.to ?? ''],
          ['Subject:', m.subject ?? ''],
          ['Date:', m.date ?? m.receivedAt ?? ''],
        ]);
        out();
        return out(m.text ?? m.html ?? '');
      }
      const list = await clientFor(o).json<MessageView[]>('GET', `${path}${q}`);
      if (printJson(o, list)) return;
      if (!list.length) return out(`No mail from ${requireApp(o)} yet.`);
      table([
        ['Id', 'Date', 'From', 'To', 'Subject'],
        ...list.map((m) => [m.id, m.date ?? m.receivedAt ?? '', m.from ?? '', m.to ?? '', m.subject ?? '']),
      ]);
    });
  },
};
