#!/usr/bin/env node
/**
 * The provider as a stand-alone service speaking Heroku's add-on partner API, the way a published
 * provider runs:
 *
 *   SLIPWAY_ADDON_PASSWORD=… slipway-addon-mariadb --port 5000 --data-dir /var/lib/addon-mariadb
 *
 * It prints `listening on <url>` once it serves, writes its manifest with `--manifest-out`, and
 * stops mariadbd on SIGTERM/SIGINT.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { serveAddon } from '@slipway/addon-sdk';
import { mariadbManifest } from './manifest.js';
import { mariadbDefinition } from './provider.js';

const USAGE = `usage: SLIPWAY_ADDON_PASSWORD=<secret> slipway-addon-mariadb [options]
  --port N             partner API port (default 5000; 0 picks a free one)
  --host ADDR          partner API address (default 127.0.0.1)
  --data-dir DIR       where the MariaDB server and the resource records live (default ~/.slipway/data)
  --mariadb-port N     port of mariadbd (default: a free one, chosen once and kept)
  --mariadb-listen A   address mariadbd listens on (default 127.0.0.1)
  --public-host H      host written in the apps' MARIADB_URL (default the listen address)
  --bin-dir DIR        directory of mariadbd and mariadb-install-db
  --run-as USER        user mariadbd runs as when started by root (default mysql)
  --manifest-out FILE  write the manifest (without the password) there once listening
  --print-manifest     print the manifest and exit`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '5000' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
      'mariadb-port': { type: 'string' },
      'mariadb-listen': { type: 'string' },
      'public-host': { type: 'string' },
      'bin-dir': { type: 'string' },
      'run-as': { type: 'string' },
      'manifest-out': { type: 'string' },
      'print-manifest': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void console.log(USAGE);
  if (values['print-manifest']) return void console.log(JSON.stringify(mariadbManifest(), null, 2));
  // The password comes from the environment: on the command line every local user could read it.
  const password = process.env.SLIPWAY_ADDON_PASSWORD;
  if (!password) {
    console.error(`slipway-addon-mariadb: set SLIPWAY_ADDON_PASSWORD to the partner API password\n${USAGE}`);
    process.exit(2);
  }
  const options: Record<string, unknown> = {};
  if (values['mariadb-port']) options.port = Number(values['mariadb-port']);
  if (values['mariadb-listen']) options.listen = values['mariadb-listen'];
  if (values['public-host']) options.host = values['public-host'];
  if (values['bin-dir']) options.binDir = values['bin-dir'];
  if (values['run-as']) options.runAs = values['run-as'];

  const server = await serveAddon(mariadbDefinition(), {
    port: Number(values.port),
    host: values.host,
    password,
    options,
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  });
  if (values['manifest-out'])
    await writeFile(values['manifest-out'], `${JSON.stringify(mariadbManifest(server.url), null, 2)}\n`);
  console.log(`slipway-addon-mariadb: listening on ${server.url}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
    process.exit(0);
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void stop());
}

main().catch((e: unknown) => {
  console.error(`slipway-addon-mariadb: ${(e as { describe?: () => string }).describe?.() ?? String(e)}`);
  process.exit(1);
});
