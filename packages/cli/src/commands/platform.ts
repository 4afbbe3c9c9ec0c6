/**
 * `slipway start`: run the whole platform (API, router, dyno manager, log hub) in this process
 * tree until SIGINT/SIGTERM. The runtime is loaded on demand so the other verbs stay light.
 */
import { SlipwayError } from '@slipway/core';
import type { Command } from 'commander';
import { defaultDataDir, out } from '../api-client.js';
import type { CommandModule } from './index.js';

/** A positive number of seconds, or a coded error naming the option. */
function seconds(option: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new SlipwayError(
      'SLIPWAY_ERR_CLI_OPTION',
      `${option} must be a positive number of seconds, not "${value}"`,
      {
        hint: `Pass e.g. ${option} 30.`,
        status: 400,
      },
    );
  return n;
}

/** `--https-port`: a port number (0 = any free one) or `off`, or a coded error. */
function httpsPort(value: string): number | false {
  if (value === 'off') return false;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new SlipwayError(
      'SLIPWAY_ERR_CLI_OPTION',
      `--https-port must be a port number or "off", not "${value}"`,
      {
        hint: 'Pass e.g. --https-port 5443 (0 for any free port), or --https-port off for no HTTPS listener.',
        status: 400,
      },
    );
  return n;
}

/** The platform verb. */
export const platformCommands: CommandModule = {
  register(program: Command) {
    program
      .command('start')
      .description('run the platform: API, router, dynos and logs (data in --data-dir)')
      .option(
        '--data-dir <dir>',
        'where state, slugs and credentials live (default $SLIPWAY_DATA_DIR, else ./.slipway)',
      )
      .option(
        '--port <port>',
        'router port (apps answer at http://<app>.localhost:<port>; default $SLIPWAY_PORT, else 5000)',
        process.env.SLIPWAY_PORT || '5000',
      )
      .option(
        '--https-port <port>',
        'router HTTPS port (default $SLIPWAY_HTTPS_PORT, else 5443; "off" for none)',
        process.env.SLIPWAY_HTTPS_PORT || undefined,
      )
      .option(
        '--api-port <port>',
        'API port (default $SLIPWAY_API_PORT, else 5001)',
        process.env.SLIPWAY_API_PORT || '5001',
      )
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--base-domain <domain>', 'apps answer at <app>.<domain>', 'localhost')
      .option('--config <file>', 'slipway.config.json composing the platform (default: first-party plugins)')
      .option('--boot-timeout <seconds>', 'web dynos must bind $PORT within this', '60')
      .option('--stop-grace <seconds>', 'SIGTERM → SIGKILL grace when dynos stop', '30')
      .option(
        '--runtime <name>',
        'dyno runtime: local (processes), sandbox (local processes in bubblewrap namespaces in the stack root), docker (containers from the stack image), swarm (services across the nodes of a Docker Swarm whose manager is this engine) or auto (sandbox when the stack is built and we are root, else local; the default unless the config file says)',
      )
      .option(
        '--router <name>',
        'router data plane: node (the Node router; the default unless the config file says), haproxy (HAProxy driven live over its stats socket; needs the haproxy package) or auto (haproxy when installed)',
      )
      .option(
        '--stack <name>',
        'stack dynos run in: the docker image slipway/stack:<name>, or the sandbox root built by stack:build <name>',
      )
      .option('--allow-loopback-drains', 'accept log drains on this machine (127.0.0.1, localhost)')
      .option('--demo', 'create and deploy the example apps, then print their URLs')
      .action(
        async (o: {
          dataDir?: string;
          port: string;
          httpsPort?: string;
          apiPort: string;
          host: string;
          baseDomain: string;
          config?: string;
          bootTimeout: string;
          stopGrace: string;
          allowLoopbackDrains?: boolean;
          demo?: boolean;
          runtime?: string;
          router?: string;
          stack?: string;
        }) => {
          if (o.router !== undefined && !['auto', 'node', 'haproxy'].includes(o.router))
            throw new SlipwayError(
              'SLIPWAY_ERR_CLI_OPTION',
              `--router must be node, haproxy or auto, not "${o.router}"`,
              {
                hint: 'Pass --router haproxy (needs apt-get install haproxy), --router node or --router auto.',
                status: 400,
              },
            );
          if (o.runtime !== undefined && !['auto', 'local', 'sandbox', 'docker', 'swarm'].includes(o.runtime))
            throw new SlipwayError(
              'SLIPWAY_ERR_CLI_OPTION',
              `--runtime must be auto, local, sandbox, docker or swarm, not "${o.runtime}"`,
              {
                hint: 'Pass --runtime sandbox (needs bubblewrap and `slipway stack:build`), --runtime docker (needs a Docker engine and the stack), --runtime swarm (needs a Swarm manager and the stack on every node) or --runtime local.',
                status: 400,
              },
            );
          // Loaded by `start` only: every other verb would pay for the whole platform at start-up.
          const { startPlatform } = await import('@slipway/runtime');
          const platform = await startPlatform({
            dataDir: o.dataDir ?? defaultDataDir(),
            routerPort: Number(o.port),
            ...(o.httpsPort !== undefined ? { httpsPort: httpsPort(o.httpsPort) } : {}),
            apiPort: Number(o.apiPort),
            host: o.host,
            baseDomain: o.baseDomain,
            ...(o.config ? { configFile: o.config } : {}),
            bootTimeoutMs: seconds('--boot-timeout', o.bootTimeout) * 1000,
            stopGraceMs: seconds('--stop-grace', o.stopGrace) * 1000,
            ...(o.runtime ? { runtime: o.runtime as 'auto' | 'local' | 'sandbox' | 'docker' | 'swarm' } : {}),
            ...(o.stack ? { stack: o.stack } : {}),
            ...(o.router ? { router: o.router as 'auto' | 'node' | 'haproxy' } : {}),
            ...(o.allowLoopbackDrains ? { allowLoopbackDrains: true } : {}),
          });
          for (const s of platform.skippedPlugins) process.stderr.write(` !     plugin skipped: ${s}\n`);
          for (const w of platform.warnings ?? []) process.stderr.write(` !     warning: ${w}\n`);
          out(`Slipway is running.`);
          out(`  API:         ${platform.apiUrl}  (credentials: ${platform.credentialsFile})`);
          out(`  Router:      ${platform.routerUrl}  (${platform.routerDataPlane})`);
          if (platform.routerHttpsUrl)
            out(`  HTTPS:       ${platform.routerHttpsUrl}  (slipway certs:add / certs:auto:enable)`);
          // Before `Apps answer:`, the line scripts wait for: the start-up output is whole by then.
          const providers = platform.addonProviders();
          out(`  Add-on providers: ${providers.length ? '' : '(none)'}`);
          for (const p of providers)
            out(
              `    ${p.name} (${p.kind}${p.source === 'api' ? ', added with addons:providers:add' : ''}): ${p.services.join(', ')}`,
            );
          out(`  Apps answer: ${platform.appUrl('<app>')}`);
          out(`  Dashboard:   ${platform.apiUrl}/dashboard`);
          out(
            `  Owner:       ${platform.owner.email}${platform.owner.password ? ` (first password in ${platform.credentialsFile})` : ''}`,
          );
          let stopping = false;
          const stop = async () => {
            if (stopping) return;
            stopping = true;
            out('Stopping: dynos get SIGTERM…');
            await platform.stop();
            process.exit(0);
          };
          process.on('SIGINT', () => void stop());
          process.on('SIGTERM', () => void stop());
          if (o.demo) {
            const results = await platform.demo((l) => out(l));
            out('');
            out('Demo apps:');
            for (const r of results) out(`  ${r.app.padEnd(12)} ${r.url ?? `not deployed: ${r.error}`}`);
          }
          // Keep running until a signal arrives.
          await new Promise(() => {});
        },
      );
  },
};
