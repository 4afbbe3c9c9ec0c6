#!/usr/bin/env node
/**
 * `slipway-custom-platform [--data-dir DIR] [--port N] [--api-port N] [--base-domain D]
 * [--canary-app APP]...`: run the custom platform until SIGINT/SIGTERM. The `slipway` CLI drives
 * it like the reference platform (it finds `<data dir>/credentials.json`).
 */
import { parseArgs } from 'node:util';
import { startCustomPlatform } from './platform.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: process.env.SLIPWAY_DATA_DIR || '.slipway' },
    port: { type: 'string', default: '5000' },
    'api-port': { type: 'string', default: '5001' },
    host: { type: 'string', default: '127.0.0.1' },
    'base-domain': { type: 'string', default: 'localhost' },
    'canary-app': { type: 'string', multiple: true },
  },
});

const platform = await startCustomPlatform({
  dataDir: values['data-dir'],
  routerPort: Number(values.port),
  apiPort: Number(values['api-port']),
  host: values.host,
  baseDomain: values['base-domain'],
  canary: values['canary-app'] ? { apps: values['canary-app'] } : {},
});
for (const s of platform.skippedPlugins) process.stderr.write(` !     plugin skipped: ${s}\n`);
const say = (line: string) => process.stdout.write(`${line}\n`);
say('Custom Slipway platform is running.');
say(`  API:         ${platform.apiUrl}  (credentials: ${platform.credentialsFile})`);
say(`  Router:      ${platform.routerUrl}`);
say(`  Apps answer: ${platform.appUrl('<app>')}  (X-Canary: 1 → <app>-canary)`);
say(`  Buildpacks:  ${[...platform.kernel.catalog.buildpacks.keys()].join(', ')}`);
say(`  Add-ons:     ${[...platform.kernel.catalog.addons.keys()].join(', ')}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  say('Stopping…');
  await platform.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
