/**
 * `slipway stack:build [NAME]`: make the stack's root filesystems (run image and build variant)
 * from Debian's packages with debootstrap, cache them, and `docker import` them as
 * `slipway/stack:NAME` and `slipway/stack:NAME-build` where a Docker engine runs. Works without
 * a platform (no API); needs root. `slipway stacks` lists the stacks (marking the app's), and
 * `slipway stack:set NAME -a APP` sets the stack of the app's next build, as Heroku's do.
 */
import type { StackListing } from '@slipway/runtime';
import type { Command } from 'commander';
import { appVerb, type ClientOptions, clientFor, out, printJson, requireApp, table } from '../api-client.js';
import type { CommandModule } from './index.js';

/** `GET /apps/:app/stack`. */
interface AppStack {
  build_stack: { name: string };
  stack: { name: string } | null;
}

const stackPath = (app: string) => `/apps/${encodeURIComponent(app)}/stack`;

/** The app named by -a, -r or the slipway remote, if any (`stacks` works without one). */
function optionalApp(o: ClientOptions): string | undefined {
  try {
    return requireApp(o);
  } catch {
    return undefined;
  }
}

/** The stack verb. */
export const stackCommands: CommandModule = {
  register(program: Command) {
    program
      .command('stack:build [name]')
      .description(
        'build a stack from Debian packages (debootstrap) and docker import it (default slipway-13)',
      )
      .option(
        '--cache-dir <dir>',
        'where roots and packages are kept (default $SLIPWAY_STACK_CACHE, else /var/cache/slipway/stacks)',
      )
      .option('--mirror <url>', 'Debian mirror (default: the one apt uses)')
      .option('--run-only', 'only the run image, not the build variant')
      .option('--no-docker', 'do not import into a Docker engine')
      .option('--json', 'print the built variants as JSON (progress goes to stderr)')
      .action(
        async (
          name: string | undefined,
          o: { cacheDir?: string; mirror?: string; runOnly?: boolean; docker: boolean; json?: boolean },
        ) => {
          // Loaded by `stack:build` only, as `start` loads the rest of the runtime.
          const { buildStack } = await import('@slipway/runtime');
          const started = Date.now();
          const r = await buildStack({
            ...(name ? { name } : {}),
            ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
            ...(o.mirror ? { mirror: o.mirror } : {}),
            ...(o.docker ? {} : { docker: false as const }),
            ...(o.runOnly ? { variants: ['run' as const] } : {}),
            onProgress: (l) => (o.json ? process.stderr.write(`${l}\n`) : out(l)),
          });
          if (printJson(o, r)) return;
          out(`Stack ${r.name} ready in ${Math.round((Date.now() - started) / 1000)} s:`);
          for (const v of r.variants)
            out(
              `  ${v.image.padEnd(28)} ${v.built ? 'built' : 'cached'}; docker: ${v.docker}; root ${v.root}`,
            );
        },
      );
    appVerb(
      program
        .command('stacks')
        .alias('stack')
        .description("list the stacks, which are built here, and the app's (marked *)"),
    ).action(async (o: ClientOptions) => {
      const c = clientFor(o);
      const app = optionalApp(o);
      const [stacks, mine] = await Promise.all([
        c.json<StackListing[]>('GET', '/stacks'),
        app ? c.json<AppStack>('GET', stackPath(app)) : undefined,
      ]);
      if (printJson(o, { stacks, ...(mine ? { app: mine } : {}) })) return;
      if (app) out(`=== ${app} Available Stacks`);
      table(
        stacks.map((s) => [
          s.name === mine?.build_stack.name ? '*' : ' ',
          s.name,
          s.built ? 'built' : 'not built (sudo npx slipway stack:build ' + s.name + ')',
          `${s.description}${s.default ? ', the default' : ''}`,
        ]),
      );
      if (mine?.stack && mine.stack.name !== mine.build_stack.name)
        out(`The live release runs on ${mine.stack.name}; the next build uses ${mine.build_stack.name}.`);
    });
    appVerb(
      program
        .command('stack:set')
        .argument('<stack>', 'the stack, e.g. slipway-14 (`slipway stacks` lists them)')
        .description("set the stack of an app's next build (the running release stays where it was built)"),
    ).action(async (stack: string, o: ClientOptions) => {
      const app = requireApp(o);
      const r = await clientFor(o).json<AppStack>(
        'PATCH',
        stackPath(app),
        { stack },
        `Setting stack to ${stack}`,
      );
      if (printJson(o, r)) return;
      out(`Setting stack to ${r.build_stack.name}... done`);
      out(`You will need to redeploy ${app} for the change to take effect.`);
      out('Run git push slipway main to trigger a new build on ' + app + '.');
    });
  },
};
