/**
 * `build DIR [-b BUILDPACK]... [--cache-dir DIR] [-o SLUG] [--env K=V]...`: compile an app into a
 * slug on this machine, Heroku style, without a platform. Buildpacks come from a
 * slipway.config.* in the current directory, the first-party `@slipway/buildpack-*` packages
 * that are installed, and each `-b` (an id, a path, a package or a git URL).
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import {
  createKernel,
  formatBytes,
  type Kernel,
  offerPlatformNode,
  type Plugin,
  parseConfigAssignments,
  runBuild,
} from '@slipway/core';
import type { Command } from 'commander';
import type { CommandModule } from './index.js';

interface BuildCliOptions {
  buildpack: string[];
  cacheDir?: string;
  output?: string;
  env: string[];
  timeout?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * Load the installed first-party buildpacks (the platform's own list, `DEFAULT_BUILDPACKS`, in
 * detect order) the kernel does not have yet; missing ones are skipped.
 */
async function loadFirstParty(kernel: Kernel): Promise<void> {
  const { DEFAULT_BUILDPACKS } = await import('@slipway/runtime');
  for (const pkg of DEFAULT_BUILDPACKS) {
    // First-party packages are named after their buildpack id: a config file's own `nodejs` wins.
    if (kernel.catalog.buildpacks.has(pkg.replace(/^@slipway\/buildpack-/, ''))) continue;
    let mod: { default?: Plugin; plugin?: Plugin };
    try {
      mod = await import(pkg);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Not installed is normal (a slim install); anything else is a broken package worth a warning.
      if (code !== 'ERR_MODULE_NOT_FOUND' || !String((e as Error).message).includes(pkg))
        process.stderr.write(` !     skipping ${pkg}: ${(e as Error).message.split('\n')[0]}\n`);
      continue;
    }
    const plugin = mod.default ?? mod.plugin;
    if (plugin && !kernel.plugins.includes(plugin.name)) await kernel.use(plugin);
  }
}

/** Default build cache: per source dir, so a rebuild reuses the dependencies it installed. */
function defaultCacheDir(dir: string): string {
  const root = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const key = createHash('sha256').update(dir).digest('hex').slice(0, 16);
  return join(root, 'slipway', 'build-cache', `${basename(dir)}-${key}`);
}

/** The build verb. */
export const buildCommands: CommandModule = {
  register(program: Command) {
    program
      .command('build')
      .argument('<dir>', 'app source: a directory or a .tar.gz')
      .description('compile an app into a slug here, streaming the build (no platform needed)')
      .option(
        '-b, --buildpack <buildpack>',
        'buildpack id, path, package or git URL; repeat to run several in order',
        collect,
        [],
      )
      .option(
        '--cache-dir <dir>',
        'build cache kept between builds (default: per app under ~/.cache/slipway)',
      )
      .option('-o, --output <slug>', 'write the slug (tar.gz) here, and its metadata beside it as .json')
      .option('--env <KEY=value>', 'config var given to the buildpacks (repeatable)', collect, [])
      .option('--timeout <minutes>', 'give up after this many minutes (default 25)')
      .option('--json', 'print the result as JSON (the build output goes to stderr)')
      .action(async (dir: string, o: BuildCliOptions) => {
        const cwd = process.cwd();
        const source = resolve(cwd, dir);
        const env = parseConfigAssignments(o.env);
        // The buildpack SDK loads with the build, not with every verb of the CLI.
        const { defaultBuildpackCache, resolveBuildpack } = await import('@slipway/buildpack-sdk');
        const { kernel } = await createKernel({ cwd });
        await loadFirstParty(kernel);
        const output = o.output ? resolve(cwd, o.output) : undefined;
        const minutes = o.timeout === undefined ? undefined : Number(o.timeout);
        // Ctrl-C or a kill: cancel the build so its processes die, its temp dirs go and no slug is left.
        const cancel = new AbortController();
        const onSignal = () => cancel.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        // The platform's shared Node.js, as a platform build gets it (made once per machine).
        const offered = await offerPlatformNode();
        const result = await runBuild({
          signal: cancel.signal,
          ...(offered.sharedMembers ? { sharedMembers: offered.sharedMembers } : {}),
          kernel,
          source,
          app: 'local',
          env,
          cacheDir: o.cacheDir ? resolve(cwd, o.cacheDir) : defaultCacheDir(source),
          ...(o.buildpack.length ? { buildpacks: o.buildpack } : {}),
          // A -b that is not installed (path, package, git URL) is loaded when the build reaches it.
          fetchBuildpack: (spec) =>
            resolveBuildpack(spec, cwd, { npmPrefix: join(defaultBuildpackCache(), 'npm') }),
          ...(output ? { output } : {}),
          ...(minutes && minutes > 0 ? { timeoutMs: minutes * 60_000 } : {}),
          onLine: (line) => (o.json ? process.stderr : process.stdout).write(`${line}\n`),
        }).finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          offered.restore();
        });
        if (o.json) {
          const { buildpacks, processTypes, slug, timings } = result;
          process.stdout.write(
            `${JSON.stringify({ buildpacks, processTypes, slug: slug ?? null, timings }, null, 2)}\n`,
          );
          return;
        }
        const say = (line: string) => process.stdout.write(`${line}\n`);
        say(
          `-----> Built with ${result.buildpacks.map((b) => b.buildpack).join(', ')} in ${(result.timings.total / 1000).toFixed(1)}s`,
        );
        for (const [type, command] of Object.entries(result.processTypes)) say(`       ${type}: ${command}`);
        if (result.slug) {
          say(`-----> Slug: ${result.slug.path}`);
          say(`       Size: ${formatBytes(result.slug.size)} (${result.slug.size} bytes)`);
          say(`       Checksum: ${result.slug.checksum}`);
        } else say('-----> No slug written (dry build); pass -o FILE.tgz to write one');
      });
  },
};
