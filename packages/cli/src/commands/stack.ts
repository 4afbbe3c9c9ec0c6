/**
 * `slipway stack:build [NAME]`: make the stack's root filesystems (run image and build variant)
 * from Debian's packages with debootstrap, cache them, and `docker import` them as
 * `slipway/stack:NAME` and `slipway/stack:NAME-build` where a Docker engine runs. Works without
 * a platform (no API); needs root.
 */
import type { Command } from 'commander';
import { out, printJson } from '../api-client.js';
import type { CommandModule } from './index.js';

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
  },
};
