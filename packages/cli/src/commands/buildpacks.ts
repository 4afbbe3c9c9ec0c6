/**
 * `buildpacks`, `buildpacks:add`, `buildpacks:set`, `buildpacks:remove`, `buildpacks:clear`:
 * the app's buildpack list, used by its next build. Like Heroku's CLI, the list is edited here
 * and stored whole with `PUT /apps/:app/buildpack-installations`.
 */
import { defineErrors } from '@slipway/core';
import type { Command } from 'commander';
import { appVerb, type ClientOptions, clientFor, out, printJson, requireApp } from '../api-client.js';
import type { CommandModule } from './index.js';

/** Errors of the buildpack verbs. */
export const buildpackCliErrors = defineErrors({
  SLIPWAY_ERR_CLI_BUILDPACK_INDEX: {
    message: '--index {index} is not a position in the list (1 to {max})',
    hint: 'See the list with `slipway buildpacks -a APP`; positions start at 1.',
  },
  SLIPWAY_ERR_CLI_BUILDPACK_PRESENT: {
    message: 'buildpack {name} is already set on {app}',
    hint: 'See the list with `slipway buildpacks -a {app}`.',
  },
  SLIPWAY_ERR_CLI_BUILDPACK_MISSING: {
    message: 'buildpack {name} is not set on {app}',
    hint: 'See the list with `slipway buildpacks -a {app}`.',
  },
  SLIPWAY_ERR_CLI_BUILDPACK_ARGS: {
    message: 'give a buildpack name or --index, not {what}',
    hint: 'E.g. `slipway buildpacks:remove heroku/nodejs` or `slipway buildpacks:remove --index 2`.',
  },
});

interface Installation {
  ordinal: number;
  buildpack: { url: string; name: string };
}
type Opts = ClientOptions & { index?: string };

const path = (o: ClientOptions) => `/apps/${encodeURIComponent(requireApp(o))}/buildpack-installations`;
const list = async (o: ClientOptions) =>
  (await clientFor(o).json<Installation[]>('GET', path(o))).map((i) => i.buildpack.url);
const save = (o: ClientOptions, names: string[]) =>
  clientFor(o).json<Installation[]>('PUT', path(o), { updates: names.map((buildpack) => ({ buildpack })) });

/** 1-based `--index` as a 0-based position, checked against the list (`max` = last allowed). */
function position(index: string | undefined, max: number): number | undefined {
  if (index === undefined) return undefined;
  const n = Number(index);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw buildpackCliErrors.SLIPWAY_ERR_CLI_BUILDPACK_INDEX({ index, max });
  return n - 1;
}

function show(app: string, names: string[], o: ClientOptions): void {
  if (printJson(o, names)) return;
  if (!names.length) {
    out(`${app} has no buildpack set; the next build detects one.`);
    return;
  }
  out(`=== ${app} Buildpack${names.length > 1 ? 's' : ''}`);
  for (const [i, n] of names.entries()) out(names.length > 1 ? `${i + 1}. ${n}` : n);
}

/** Buildpack verbs. */
export const buildpacksCommands: CommandModule = {
  register(program: Command) {
    appVerb(program.command('buildpacks').description("list the app's buildpacks")).action(async (o: Opts) =>
      show(requireApp(o), await list(o), o),
    );
    appVerb(
      program
        .command('buildpacks:add')
        .argument(
          '<buildpack>',
          'id (nodejs), heroku/nodejs, git URL, npm:PACKAGE, or an absolute path (a directory or an npm-packed .tgz)',
        )
        .option('-i, --index <n>', 'insert at this position (1 = first)')
        .description('add a buildpack (used by the next build)'),
    ).action(async (name: string, o: Opts) => {
      const app = requireApp(o);
      const names = await list(o);
      if (names.includes(name)) throw buildpackCliErrors.SLIPWAY_ERR_CLI_BUILDPACK_PRESENT({ name, app });
      const at = position(o.index, names.length + 1) ?? names.length;
      names.splice(at, 0, name);
      await save(o, names);
      if (printJson(o, names)) return;
      out(`Buildpack added. Next release on ${app} will use ${names.join(', ')}.`);
      out('Run `git push` or `slipway deploy` to create a new release using these buildpacks.');
    });
    appVerb(
      program
        .command('buildpacks:set')
        .argument('<buildpack>')
        .option('-i, --index <n>', 'replace the buildpack at this position (1 = first)')
        .description('set the buildpack (or the one at --index)'),
    ).action(async (name: string, o: Opts) => {
      const app = requireApp(o);
      let names = await list(o);
      const at = position(o.index, Math.max(names.length, 1));
      if (at === undefined) names = [name];
      else if (names.includes(name) && names[at] !== name)
        throw buildpackCliErrors.SLIPWAY_ERR_CLI_BUILDPACK_PRESENT({ name, app });
      else names[at] = name;
      await save(o, names);
      if (printJson(o, names)) return;
      out(`Buildpack set. Next release on ${app} will use ${names.join(', ')}.`);
    });
    appVerb(
      program
        .command('buildpacks:remove')
        .argument('[buildpack]')
        .option('-i, --index <n>', 'remove the buildpack at this position (1 = first)')
        .description('remove a buildpack'),
    ).action(async (name: string | undefined, o: Opts) => {
      const app = requireApp(o);
      const names = await list(o);
      if ((name === undefined) === (o.index === undefined))
        throw buildpackCliErrors.SLIPWAY_ERR_CLI_BUILDPACK_ARGS({
          what: name === undefined ? 'neither' : 'both',
        });
      let at = position(o.index, names.length);
      if (name !== undefined) {
        at = names.indexOf(name);
        if (at < 0) throw buildpackCliErrors.SLIPWAY_ERR_CLI_BUILDPACK_MISSING({ name, app });
      }
      const [gone] = names.splice(at as number, 1);
      await save(o, names);
      if (!o.json) out(`Buildpack ${gone} removed.`);
      show(app, names, o);
    });
    appVerb(program.command('buildpacks:clear').description('clear the list: the next build detects')).action(
      async (o: Opts) => {
        await save(o, []);
        if (printJson(o, [])) return;
        out(`Buildpacks cleared. Next release on ${requireApp(o)} will detect its buildpack.`);
      },
    );
  },
};
