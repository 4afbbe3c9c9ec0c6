/**
 * `create buildpack NAME [--dir DIR]` and `create addon NAME [--dir DIR]`: start a new plugin
 * package from the SDKs' templates, ready for `npm install && npm test`.
 */
import { resolve } from 'node:path';
import { defineErrors } from '@slipway/core';
import type { Command } from 'commander';
import type { CommandModule } from './index.js';

/** Errors of the create verbs. */
export const createErrors = defineErrors({
  SLIPWAY_ERR_CLI_SCAFFOLD_UNAVAILABLE: {
    message: 'this Slipway cannot create {kind}s: {detail}',
    hint: 'Install a version of {pkg} that exports {fn}({ name, dir }), or update Slipway.',
  },
});

interface CreateOptions {
  dir?: string;
}

type Scaffold = (opts: { name: string; dir: string }) => Promise<{ files?: string[] } | undefined>;

/** The add-on scaffolder, looked up at run time so the CLI works with any add-on SDK version. */
async function addonScaffolder(): Promise<Scaffold> {
  const pkg = '@slipway/addon-sdk';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pkg)) as Record<string, unknown>;
  } catch (e) {
    throw createErrors.SLIPWAY_ERR_CLI_SCAFFOLD_UNAVAILABLE(
      { kind: 'add-on', pkg, fn: 'scaffoldAddon', detail: `${pkg} does not load (${(e as Error).message})` },
      { cause: e },
    );
  }
  if (typeof mod.scaffoldAddon !== 'function')
    throw createErrors.SLIPWAY_ERR_CLI_SCAFFOLD_UNAVAILABLE({
      kind: 'add-on',
      pkg,
      fn: 'scaffoldAddon',
      detail: `${pkg} has no scaffoldAddon export`,
    });
  return mod.scaffoldAddon as Scaffold;
}

function report(kind: string, name: string, dir: string, files: string[] | undefined): void {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`-----> Created ${kind} ${name} in ${dir}`);
  for (const f of files ?? []) say(`       ${f}`);
  say('-----> Next:');
  say(`       cd ${dir} && npm install && npm test`);
}

/** The create verbs. */
export const createCommands: CommandModule = {
  register(program: Command) {
    // `new` is the name Heroku's habits leave free (`create` makes an app there); `create` stays.
    for (const verb of ['new', 'create'])
      this.scaffolders(program.command(verb).description('start a new buildpack or add-on package'));
  },
  scaffolders(create: Command) {
    create
      .command('buildpack')
      .argument('<name>', 'npm package name, e.g. acme-static or @acme/buildpack-rust')
      .option('--dir <dir>', 'directory to create (default: ./<name>)')
      .description('create a buildpack package (source, fixture app, passing test) from the SDK template')
      .action(async (name: string, o: CreateOptions) => {
        const dir = resolve(o.dir ?? name.replace(/^@[^/]+\//, ''));
        const { scaffoldBuildpack } = await import('@slipway/buildpack-sdk');
        const r = await scaffoldBuildpack({ name, dir });
        report('buildpack', name, r.dir, r.files);
      });
    create
      .command('addon')
      .argument('<name>', 'npm package name, e.g. acme-memcached or @acme/addon-memcached')
      .option('--dir <dir>', 'directory to create (default: ./<name>)')
      .description('create an add-on provider package from the add-on SDK template')
      .action(async (name: string, o: CreateOptions) => {
        const dir = resolve(o.dir ?? name.replace(/^@[^/]+\//, ''));
        const scaffold = await addonScaffolder();
        const r = await scaffold({ name, dir });
        report('add-on', name, dir, r && Array.isArray(r.files) ? r.files : undefined);
      });
  },
} as CommandModule & { scaffolders(c: Command): void };
