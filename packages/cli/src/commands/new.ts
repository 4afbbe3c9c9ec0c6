/**
 * `new buildpack NAME [--dir DIR]` and `new addon NAME [--dir DIR]`: start a new plugin package
 * from the SDKs' templates, ready for `npm install && npm test`. (`create` is Heroku's
 * `apps:create`, so the scaffolder has its own verb.)
 */
import { resolve } from 'node:path';
import { defineErrors } from '@slipway/core';
import type { Command } from 'commander';
import type { CommandModule } from './index.js';

/** Errors of the scaffolding verbs. */
export const newErrors = defineErrors({
  SLIPWAY_ERR_CLI_SCAFFOLD_UNAVAILABLE: {
    message: 'this Slipway cannot create {kind}s: {detail}',
    hint: 'Install a version of {pkg} that exports {fn}({ name, dir }), or update Slipway.',
  },
});

interface CreateOptions {
  dir?: string;
  json?: boolean;
}

type Scaffold = (opts: { name: string; dir: string }) => Promise<{ files?: string[] } | undefined>;

/** The add-on scaffolder, looked up at run time so the CLI works with any add-on SDK version. */
async function addonScaffolder(): Promise<Scaffold> {
  const pkg = '@slipway/addon-sdk';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pkg)) as Record<string, unknown>;
  } catch (e) {
    throw newErrors.SLIPWAY_ERR_CLI_SCAFFOLD_UNAVAILABLE(
      { kind: 'add-on', pkg, fn: 'scaffoldAddon', detail: `${pkg} does not load (${(e as Error).message})` },
      { cause: e },
    );
  }
  if (typeof mod.scaffoldAddon !== 'function')
    throw newErrors.SLIPWAY_ERR_CLI_SCAFFOLD_UNAVAILABLE({
      kind: 'add-on',
      pkg,
      fn: 'scaffoldAddon',
      detail: `${pkg} has no scaffoldAddon export`,
    });
  return mod.scaffoldAddon as Scaffold;
}

function report(kind: string, name: string, dir: string, files: string[] | undefined, json?: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ kind, name, dir, files: files ?? [] }, null, 2)}\n`);
    return;
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`-----> Created ${kind} ${name} in ${dir}`);
  for (const f of files ?? []) say(`       ${f}`);
  say('-----> Next:');
  say(`       cd ${dir} && npm install && npm test`);
}

/** The scaffolding verbs. */
export const newCommands: CommandModule = {
  register(program: Command) {
    const create = program
      .command('new')
      .description('start a new buildpack or add-on package from the SDK templates');
    create
      .command('buildpack')
      .argument('<name>', 'npm package name, e.g. acme-static or @acme/buildpack-rust')
      .option('--dir <dir>', 'directory to create (default: ./<name>)')
      .option('--json', 'print what was created as JSON')
      .description('create a buildpack package (source, fixture app, passing test) from the SDK template')
      .action(async (name: string, o: CreateOptions) => {
        const dir = resolve(o.dir ?? name.replace(/^@[^/]+\//, ''));
        const { scaffoldBuildpack } = await import('@slipway/buildpack-sdk');
        const r = await scaffoldBuildpack({ name, dir });
        report('buildpack', name, r.dir, r.files, o.json);
      });
    create
      .command('addon')
      .argument('<name>', 'npm package name, e.g. acme-memcached or @acme/addon-memcached')
      .option('--dir <dir>', 'directory to create (default: ./<name>)')
      .option('--json', 'print what was created as JSON')
      .description('create an add-on provider package from the add-on SDK template')
      .action(async (name: string, o: CreateOptions) => {
        const dir = resolve(o.dir ?? name.replace(/^@[^/]+\//, ''));
        const scaffold = await addonScaffolder();
        const r = await scaffold({ name, dir });
        report('add-on', name, dir, r && Array.isArray(r.files) ? r.files : undefined, o.json);
      });
  },
};
