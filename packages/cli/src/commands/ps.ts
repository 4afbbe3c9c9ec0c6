/** `ps`, `ps:scale type=N[:size]…` and `ps:restart [type]`. */
import { SlipwayError } from '@slipway/core';
import type { Command } from 'commander';
import { type ClientOptions, clientFor, out, requireApp } from '../api-client.js';
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
    program
      .command('ps')
      .description('list dynos and the formation')
      .option('-a, --app <app>', 'app name')
      .option('--json', 'print JSON')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (o: ClientOptions) => {
        const app = encodeURIComponent(requireApp(o));
        const c = clientFor(o);
        const [dynos, formation] = await Promise.all([
          c.json<any[]>('GET', `/apps/${app}/dynos`),
          c.json<any[]>('GET', `/apps/${app}/formation`),
        ]);
        if (o.json) return out(JSON.stringify({ dynos, formation }, null, 2));
        for (const f of formation) {
          out(`=== ${f.type} (${f.size}): ${f.command ?? '(no command)'} (${f.quantity})`);
          for (const d of dynos.filter((x) => x.type === f.type))
            out(`${d.name}: ${d.state} ${d.created_at} (v${d.release.version})`);
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
      });
    program
      .command('ps:scale')
      .argument('<changes...>', 'TYPE=QUANTITY[:SIZE] …')
      .description('scale process types, e.g. web=2 worker=1')
      .option('-a, --app <app>', 'app name')
      .option('--json', 'print JSON')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (changes: string[], o: ClientOptions) => {
        const updates = parseScaleArgs(changes);
        const f = await clientFor(o).json<any[]>(
          'PATCH',
          `/apps/${encodeURIComponent(requireApp(o))}/formation`,
          { updates },
        );
        if (o.json) return out(JSON.stringify(f, null, 2));
        out(
          `Scaling dynos... done, now running ${f.map((x) => `${x.type} at ${x.quantity}:${x.size}`).join(', ')}`,
        );
      });
    program
      .command('ps:restart')
      .argument('[type]', 'process type or dyno (web, web.1); all when absent')
      .description('restart dynos')
      .option('-a, --app <app>', 'app name')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (type: string | undefined, o: ClientOptions) => {
        const app = encodeURIComponent(requireApp(o));
        await clientFor(o).json(
          'DELETE',
          type ? `/apps/${app}/dynos/${encodeURIComponent(type)}` : `/apps/${app}/dynos`,
        );
        out(`Restarting ${type ?? 'all'} dynos on ${requireApp(o)}... done`);
      });
  },
};
