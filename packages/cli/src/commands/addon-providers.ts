/**
 * What add-ons the platform offers and who provides them: `addons:services`, `addons:plans
 * SERVICE`, and the remote providers registered at run time: `addons:providers`,
 * `addons:providers:add MANIFEST` (a partner-API provider) or `addons:providers:add --osb URL`
 * (an Open Service Broker), `addons:providers:remove NAME`. Registered providers are kept by
 * the platform and come back after a restart.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defineErrors } from '@slipway/core';
import type { Command } from 'commander';
import { type ClientOptions, clientFor, out, platformVerb, printJson, table } from '../api-client.js';
import type { CommandModule } from './index.js';

/** Errors of the provider verbs. */
export const providerCliErrors = defineErrors({
  SLIPWAY_ERR_CLI_PROVIDER_ARGS: {
    message: 'addons:providers:add needs {what}',
    hint: 'E.g. `slipway addons:providers:add ./acme-manifest.json --password …` (partner API) or `slipway addons:providers:add --osb http://broker:8080 --username u --password p`.',
    status: 400,
  },
  SLIPWAY_ERR_CLI_PROVIDER_MANIFEST: {
    message: 'cannot read the add-on manifest {file}: {detail}',
    hint: 'Give the path of the provider manifest (JSON), e.g. the file `--manifest-out` wrote.',
    status: 400,
  },
});

interface ProviderView {
  name: string;
  kind: string;
  source: string;
  services: string[];
  url?: string;
}
interface ServiceView {
  name: string;
  human_name: string;
  provider: string;
}
interface PlanView {
  name: string;
  description: string;
  default: boolean;
}
type AddOptions = ClientOptions & {
  osb?: string;
  url?: string;
  username?: string;
  password?: string;
  name?: string;
  services?: string;
};

async function readManifest(file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(resolve(file), 'utf8'));
  } catch (e) {
    throw providerCliErrors.SLIPWAY_ERR_CLI_PROVIDER_MANIFEST({ file, detail: (e as Error).message });
  }
}

/** The body of `POST /addon-providers` from the verb's arguments. */
async function providerBody(manifest: string | undefined, o: AddOptions): Promise<Record<string, unknown>> {
  // The password is read from the environment when not given: a command line is visible to all.
  const password = o.password ?? process.env.SLIPWAY_ADDON_PASSWORD;
  if (o.osb) {
    if (manifest)
      throw providerCliErrors.SLIPWAY_ERR_CLI_PROVIDER_ARGS({ what: 'a manifest or --osb, not both' });
    if (!o.username || !password)
      throw providerCliErrors.SLIPWAY_ERR_CLI_PROVIDER_ARGS({
        what: '--username and --password (or $SLIPWAY_ADDON_PASSWORD) with --osb',
      });
    return {
      kind: 'osb',
      url: o.osb,
      username: o.username,
      password,
      ...(o.name ? { name: o.name } : {}),
      ...(o.services ? { services: o.services.split(',').map((s) => s.trim()) } : {}),
    };
  }
  if (!manifest)
    throw providerCliErrors.SLIPWAY_ERR_CLI_PROVIDER_ARGS({ what: 'a manifest file or --osb URL' });
  return {
    kind: 'partner',
    manifest: await readManifest(manifest),
    ...(o.url ? { url: o.url } : {}),
    ...(password ? { password } : {}),
  };
}

/** Add-on service, plan and provider verbs. */
export const addonProviderCommands: CommandModule = {
  register(program: Command) {
    platformVerb(
      program.command('addons:services').description('list the add-on services this platform offers'),
    ).action(async (o: ClientOptions) => {
      const list = await clientFor(o).json<ServiceView[]>('GET', '/addon-services');
      if (printJson(o, list)) return;
      if (!list.length) return out('No add-on services are installed.');
      table([['Service', 'Name', 'Provider'], ...list.map((s) => [s.name, s.human_name, s.provider])]);
    });
    platformVerb(
      program
        .command('addons:plans')
        .argument('<service>', 'add-on service, e.g. postgres')
        .description("list a service's plans"),
    ).action(async (service: string, o: ClientOptions) => {
      const list = await clientFor(o).json<PlanView[]>(
        'GET',
        `/addon-services/${encodeURIComponent(service)}/plans`,
      );
      if (printJson(o, list)) return;
      table([
        ['', 'Plan', 'Description'],
        ...list.map((p) => [p.default ? 'default' : '', p.name, p.description]),
      ]);
    });
    platformVerb(program.command('addons:providers').description('list the add-on providers')).action(
      async (o: ClientOptions) => {
        const list = await clientFor(o).json<ProviderView[]>('GET', '/addon-providers');
        if (printJson(o, list)) return;
        table([
          ['Provider', 'Kind', 'Services', 'Added'],
          ...list.map((p) => [
            p.name,
            p.kind,
            p.services.join(', '),
            p.source === 'api' ? 'addons:providers:add' : 'platform',
          ]),
        ]);
      },
    );
    platformVerb(
      program
        .command('addons:providers:add')
        .argument('[manifest]', "a partner-API provider's manifest (JSON file)")
        .option('--url <url>', "the provider's base URL (default the manifest's api.production.base_url)")
        .option('--password <password>', 'partner API or broker password (default $SLIPWAY_ADDON_PASSWORD)')
        .option('--osb <url>', 'register an Open Service Broker at this URL instead')
        .option('--username <user>', "the broker's user name (with --osb)")
        .option('--name <name>', "the broker's name (with --osb; default its host)")
        .option('--services <a,b>', 'only offer these services of the broker (with --osb)')
        .description('register a remote add-on provider (kept across restarts)'),
    ).action(async (manifest: string | undefined, o: AddOptions) => {
      const body = await providerBody(manifest, o);
      const p = await clientFor(o).json<ProviderView>('POST', '/addon-providers', body);
      if (printJson(o, p)) return;
      out(`Added add-on provider ${p.name}: ${p.services.join(', ')}`);
      out(`Use \`slipway addons:create ${p.services[0]} -a APP\` to create one.`);
    });
    platformVerb(
      program
        .command('addons:providers:remove')
        .argument('<name>', 'provider name (see addons:providers)')
        .description('unregister a provider added with addons:providers:add'),
    ).action(async (name: string, o: ClientOptions) => {
      const p = await clientFor(o).json<ProviderView>(
        'DELETE',
        `/addon-providers/${encodeURIComponent(name)}`,
      );
      if (printJson(o, p)) return;
      out(`Removed add-on provider ${p.name}${p.services.length ? ` (${p.services.join(', ')})` : ''}`);
    });
  },
};
