/**
 * `mail [MESSAGE_ID] -a APP`: the messages the app sent through its mail add-on (the mail
 * provider's `inbox:list` and `inbox:show` actions).
 */
import type { Command } from 'commander';
import { type AddonActionOptions, readAddonAction } from '../addon-actions.js';
import { addonVerb, out, printJson, requireApp, table } from '../api-client.js';
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
    ).action(async (id: string | undefined, o: AddonActionOptions) => {
      if (id) {
        const m = await readAddonAction<MessageView>(o, 'mail', 'inbox:show', { message: id });
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
      const list = await readAddonAction<MessageView[]>(o, 'mail', 'inbox:list');
      if (printJson(o, list)) return;
      if (!list.length) return out(`No mail from ${requireApp(o)} yet.`);
      table([
        ['Id', 'Date', 'From', 'To', 'Subject'],
        ...list.map((m) => [m.id, m.date ?? m.receivedAt ?? '', m.from ?? '', m.to ?? '', m.subject ?? '']),
      ]);
    });
  },
};
