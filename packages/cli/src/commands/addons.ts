/**
 * `addons`, `addons:create SERVICE[:PLAN] [--as NAME] [-- --opt value]` (`addons:add`),
 * `addons:info`, `addons:upgrade`, `addons:destroy` (`addons:remove`), and `addons:attach
 * OWNER::NAME` / `addons:detach NAME` to share one app's add-on with another. Each change makes
 * one release with the add-on's config vars, which restarts the dynos.
 */
import { SlipwayError } from '@slipway/core';
import type { Command } from 'commander';
import { appVerb, type ClientOptions, clientFor, out, printJson, requireApp, table } from '../api-client.js';
import type { CommandModule } from './index.js';

/** An add-on as the API renders it. */
export interface AddonView {
  id: string;
  name: string;
  addon_service: { name: string };
  plan: { name: string };
  config_vars: string[];
  attachment_of?: { id: string } | null;
  created_at: string;
}

/**
 * Provider options after `--`, as Heroku's CLI passes them: `--key value`, `--key=value`, and a
 * bare `--flag` meaning "true".
 */
export function parseProviderOptions(words: string[]): Record<string, string> {
  const opts: Record<string, string> = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    const m = /^--?([A-Za-z0-9_.-]+)(?:=(.*))?$/s.exec(w);
    if (!m)
      throw new SlipwayError('SLIPWAY_ERR_CLI_ADDON_OPTION', `cannot read provider option "${w}"`, {
        hint: 'After --, write provider options as --key value, --key=value or --flag.',
        status: 400,
      });
    const key = m[1] as string;
    if (m[2] !== undefined) opts[key] = m[2];
    else if (i + 1 < words.length && !(words[i + 1] as string).startsWith('-'))
      opts[key] = words[++i] as string;
    else opts[key] = 'true';
  }
  return opts;
}

const base = (o: ClientOptions) => `/apps/${encodeURIComponent(requireApp(o))}/addons`;

/** Add-on verbs. */
export const addonsCommands: CommandModule = {
  register(program: Command) {
    appVerb(program.command('addons').description("list an app's add-ons")).action(
      async (o: ClientOptions) => {
        const list = await clientFor(o).json<AddonView[]>('GET', base(o));
        if (printJson(o, list)) return;
        if (!list.length) return out(`No add-ons for app ${requireApp(o)}.`);
        table([
          ['Add-on', 'Plan', 'Config vars'],
          ...list.map((a) => [
            a.attachment_of ? `${a.name} (attached)` : a.name,
            a.plan.name,
            a.config_vars.join(', '),
          ]),
        ]);
      },
    );

    appVerb(
      program
        .command('addons:create')
        .alias('addons:add')
        .argument('<service>', 'SERVICE[:PLAN], e.g. postgres or redis:premium')
        .argument('[options...]', 'provider options after --, e.g. -- --database_url')
        .option('--as <name>', 'attachment name (config var prefix), e.g. PRIMARY')
        .description('create an add-on and attach it (a release with its config vars)'),
    ).action(async (service: string, words: string[], o: ClientOptions & { as?: string }) => {
      const options = parseProviderOptions(words);
      const a = await clientFor(o).json<AddonView>(
        'POST',
        base(o),
        {
          plan: service,
          ...(o.as ? { name: o.as } : {}),
          ...(Object.keys(options).length ? { options } : {}),
        },
        `Creating ${service} on ${requireApp(o)}`,
      );
      if (printJson(o, a)) return;
      out(`Created ${a.name} (${a.plan.name}) as ${a.config_vars.join(', ')}`);
      out(`Use \`slipway addons:info ${a.name} -a ${requireApp(o)}\` to view its details.`);
    });

    appVerb(
      program
        .command('addons:info')
        .argument('<addon>', 'attachment name or id')
        .description('show an add-on'),
    ).action(async (name: string, o: ClientOptions) => {
      const a = await clientFor(o).json<AddonView>('GET', `${base(o)}/${encodeURIComponent(name)}`);
      if (printJson(o, a)) return;
      out(`=== ${a.name}`);
      table([
        ['Service:', a.addon_service.name],
        ['Plan:', a.plan.name],
        ['Config vars:', a.config_vars.join(', ')],
        ['Id:', a.id],
        ['Created:', a.created_at],
      ]);
    });

    appVerb(
      program
        .command('addons:upgrade')
        .argument('<addon>', 'attachment name or id')
        .argument('<plan>', 'PLAN or SERVICE:PLAN')
        .description("change an add-on's plan"),
    ).action(async (name: string, plan: string, o: ClientOptions) => {
      const a = await clientFor(o).json<AddonView>('PATCH', `${base(o)}/${encodeURIComponent(name)}`, {
        plan,
      });
      if (printJson(o, a)) return;
      out(`Changing ${a.name} on ${requireApp(o)} to ${a.plan.name}... done`);
    });

    appVerb(
      program
        .command('addons:destroy')
        .alias('addons:remove')
        .argument('<addon>', 'attachment name or id')
        .description('destroy an add-on and its data (a release without its config vars)'),
    ).action(async (name: string, o: ClientOptions) => {
      const a = await clientFor(o).json<AddonView>(
        'DELETE',
        `${base(o)}/${encodeURIComponent(name)}`,
        undefined,
        `Destroying ${name} on ${requireApp(o)}`,
      );
      if (printJson(o, a)) return;
      out(`Destroying ${a.name} on ${requireApp(o)}... done (unset ${a.config_vars.join(', ')})`);
    });

    appVerb(
      program
        .command('addons:attach')
        .argument('<addon>', "another app's add-on: OWNER_APP::ATTACHMENT (e.g. billing::POSTGRES) or its id")
        .option('--as <name>', 'attachment name (config var prefix) on this app, e.g. SHARED_DB')
        .description("attach another app's add-on to this app (its config vars, in one release)"),
    ).action(async (addon: string, o: ClientOptions & { as?: string }) => {
      const app = requireApp(o);
      const a = await clientFor(o).json<AddonView>(
        'POST',
        `/apps/${encodeURIComponent(app)}/addon-attachments`,
        { addon, ...(o.as ? { name: o.as } : {}) },
        `Attaching ${addon} to ${app}`,
      );
      if (printJson(o, a)) return;
      out(`Attaching ${addon} as ${a.name} to ${app}... done (set ${a.config_vars.join(', ')})`);
    });

    appVerb(
      program
        .command('addons:detach')
        .argument('<attachment>', 'attachment name on this app, e.g. SHARED_DB')
        .description("detach another app's add-on from this app (its data stays with the owner)"),
    ).action(async (name: string, o: ClientOptions) => {
      const app = requireApp(o);
      const a = await clientFor(o).json<AddonView>(
        'DELETE',
        `/apps/${encodeURIComponent(app)}/addon-attachments/${encodeURIComponent(name)}`,
        undefined,
        `Detaching ${name} from ${app}`,
      );
      if (printJson(o, a)) return;
      out(`Detaching ${a.name} from ${app}... done (unset ${a.config_vars.join(', ')})`);
    });
  },
};
