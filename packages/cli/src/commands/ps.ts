/**
 * `ps`, `ps:scale type=N[:size]…` (`scale`), `ps:restart [type|dyno]` (`restart`) and
 * `ps:stop DYNO` / `ps:kill DYNO` (`stop`, `kill`), with Heroku's aliases.
 */
import { SlipwayError } from '@slipway/core';
import type { ApiDyno, ApiFormation } from '@slipway/runtime';
import type { Command } from 'commander';
import { appVerb, type ClientOptions, clientFor, out, printJson, requireApp } from '../api-client.js';
import type { CommandModule } from './index.js';

/** Parse `web=2`, `worker=1:standard-2x`, `web+1` is not supported (Heroku's absolute form only). */
export function parseScaleArgs(words: string[]): { type: string; quantity?: number; size?: string }[] {
  return words.map((w) => {
    const m = /^([-\w]{1,128})=(\d+)?(?::([a-z0-9-]+))?$/.exec(w);
    if (!m || (m[2] === undefined && m[3] === undefined))
      throw new SlipwayError('SLIPWAY_ERR_CLI_SCALE_ARG', `cannot read "${w}"`, {
        hint: 'Write TYPE=QUANTITY[:SIZE], e.g. web=2 worker=1:standard-2x.',
        status: 400,
      });
    return {
      type: m[1] as string,
      ...(m[2] ? { quantity: Number(m[2]) } : {}),
      ...(m[3] ? { size: m[3] } : {}),
    };
  });
}

/** Dyno verbs. */
export const psCommands: CommandModule = {
  register(program: Command) {
    appVerb(program.command('ps').description('list dynos and the formation')).action(
      async (o: ClientOptions) => {
        const app = encodeURIComponent(requireApp(o));
        const c = clientFor(o);
        const [dynos, formation] = await Promise.all([
          c.json<ApiDyno[]>('GET', `/apps/${app}/dynos`),
          c.json<ApiFormation[]>('GET', `/apps/${app}/formation`),
        ]);
        if (printJson(o, { dynos, formation })) return;
        for (const f of formation) {
          out(`=== ${f.type} (${f.size}): ${f.command ?? '(no command)'} (${f.quantity})`);
          for (const d of dynos.filter((x) => x.type === f.type))
            out(
              `${d.name}: ${d.state} ${d.created_at} (v${d.release.version})${d.node ? ` on ${d.node}` : ''}`,
            );
          out();
        }
        // One-off dynos (`run.N`, release phase) have no formation entry: list them apart, as Heroku does.
        const oneOffs = dynos.filter((x) => !formation.some((f) => f.type === x.type));
        if (oneOffs.length) {
          out(`=== run: one-off processes (${oneOffs.length})`);
          for (const d of oneOffs) out(`${d.name}: ${d.state} ${d.created_at} (v${d.release.version})`);
          out();
        }
        if (!formation.length) out('No process types yet: deploy the app first.');
      },
    );
    appVerb(
      program
        .command('ps:scale')
        .aliases(['scale', 'dyno:scale'])
        .argument('<changes...>', 'TYPE=QUANTITY[:SIZE] …')
        .description('scale process types, e.g. web=2 worker=1:standard-2x'),
    ).action(async (changes: string[], o: ClientOptions) => {
      const updates = parseScaleArgs(changes);
      const app = requireApp(o);
      const f = await clientFor(o).json<ApiFormation[]>(
        'PATCH',
        `/apps/${encodeURIComponent(app)}/formation`,
        { updates },
        `Scaling dynos on ${app}`,
      );
      if (printJson(o, f)) return;
      out(
        `Scaling dynos... done, now running ${f.map((x) => `${x.type} at ${x.quantity}:${x.size}`).join(', ')}`,
      );
    });
    appVerb(
      program
        .command('ps:restart')
        .aliases(['restart', 'dyno:restart'])
        .argument('[type]', 'process type or dyno (web, web.1); all when absent')
        .description('restart dynos (web dynos are replaced without downtime)'),
    ).action(async (type: string | undefined, o: ClientOptions) => {
      const app = requireApp(o);
      const base = `/apps/${encodeURIComponent(app)}/dynos`;
      await clientFor(o).json(
        'DELETE',
        type ? `${base}/${encodeURIComponent(type)}` : base,
        undefined,
        `Restarting ${type ?? 'all'} dynos on ${app}`,
      );
      if (printJson(o, { app, restarted: type ?? 'all' })) return;
      out(`Restarting ${type ?? 'all'} dynos on ${app}... done`);
    });
    for (const [verb, aliases] of [
      ['ps:stop', ['stop', 'dyno:stop']],
      ['ps:kill', ['kill', 'dyno:kill']],
    ] as const)
      appVerb(
        program
          .command(verb)
          .aliases(aliases)
          .argument('<dyno>', 'a dyno, e.g. web.1 or run.1234')
          .description(
            'stop a dyno: a one-off ends; a formation dyno (web.1) is started again by the formation',
          ),
      ).action(async (dyno: string, o: ClientOptions) => {
        const app = requireApp(o);
        await clientFor(o).json(
          'POST',
          `/apps/${encodeURIComponent(app)}/dynos/${encodeURIComponent(dyno)}/actions/stop`,
          undefined,
          `Stopping ${dyno} on ${app}`,
        );
        if (printJson(o, { app, stopped: dyno })) return;
        out(`Stopping ${dyno} dyno on ${app}... done`);
      });
  },
};
