/**
 * `redis:cli [-c CMD]` and `redis:info`: thin over the API (which gives the add-on and its
 * REDIS_URL), with redis-cli run here, the password in REDISCLI_AUTH rather than on the
 * command line. The platform knows nothing of Redis for these.
 */
import { spawn } from 'node:child_process';
import { SlipwayError } from '@slipway/core';
import type { Command } from 'commander';
import {
  addonVerb,
  type ClientOptions,
  clientFor,
  out,
  printJson,
  requireApp,
  table,
} from '../api-client.js';
import type { AddonView } from './addons.js';
import type { CommandModule } from './index.js';

type RedisOptions = ClientOptions & { addon?: string };

/** redis-cli's arguments and environment for a redis:// or rediss:// URL (the password only in the env). */
export function redisCliInvocation(redisUrl: string): { args: string[]; env: Record<string, string> } {
  const u = new URL(redisUrl);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new SlipwayError('SLIPWAY_ERR_CLI_REDIS_URL', `not a redis:// URL: ${u.protocol}//${u.host}`, {
      hint: "Check the app's REDIS_URL (`slipway config -a APP`).",
      status: 400,
    });
  const db = u.pathname.slice(1);
  return {
    args: [
      '-h',
      u.hostname,
      '-p',
      u.port || '6379',
      ...(u.username && u.username !== 'default' ? ['--user', decodeURIComponent(u.username)] : []),
      ...(db ? ['-n', db] : []),
      ...(u.protocol === 'rediss:' ? ['--tls'] : []),
      '--no-auth-warning',
    ],
    env: u.password ? { REDISCLI_AUTH: decodeURIComponent(u.password) } : {},
  };
}

/** The app's Redis add-on and its URL (`--addon NAME` picks one of several). */
async function redisOf(o: RedisOptions): Promise<{ addon: AddonView; url: string }> {
  const app = encodeURIComponent(requireApp(o));
  const c = clientFor(o);
  const [addons, vars] = await Promise.all([
    c.json<AddonView[]>('GET', `/apps/${app}/addons`),
    c.json<Record<string, string>>('GET', `/apps/${app}/config-vars`),
  ]);
  const addon = addons.find((a) => a.addon_service.name === 'redis' && (!o.addon || a.name === o.addon));
  const key = addon?.config_vars.find((k) => k.endsWith('_URL') && !k.endsWith('_TLS_URL'));
  const url = key ? vars[key] : undefined;
  if (!addon || !url)
    throw new SlipwayError(
      'SLIPWAY_ERR_CLI_NO_REDIS',
      `${requireApp(o)} has no redis add-on${o.addon ? ` ${o.addon}` : ''}`,
      {
        hint: `Create one with \`slipway addons:create redis -a ${requireApp(o)}\`.`,
        status: 404,
      },
    );
  return { addon, url };
}

/** Run redis-cli; resolves with its exit code and, when `capture`, its stdout. */
function redisCli(url: string, extra: string[], capture: boolean): Promise<{ code: number; stdout: string }> {
  const { args, env } = redisCliInvocation(url);
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', [...args, ...extra], {
      stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
      env: { ...process.env, ...env },
    });
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.once('error', (e) =>
      reject(
        new SlipwayError('SLIPWAY_ERR_CLI_NO_REDIS_CLI', `cannot run redis-cli: ${e.message}`, {
          hint: 'Install the Redis client (Debian: apt-get install redis-tools).',
        }),
      ),
    );
    child.once('close', (c) => resolve({ code: c ?? 1, stdout }));
  });
}

/** `INFO` output as a map (`# Section` headers and blank lines left out). */
export function parseRedisInfo(text: string): Record<string, string> {
  const info: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) info[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return info;
}

/** Redis verbs. */
export const redisCommands: CommandModule = {
  register(program: Command) {
    const common = (c: Command, json = true) => addonVerb(c, 'redis', json);

    common(program.command('redis:cli').description("open redis-cli on the app's Redis"), false)
      .option('-c, --command <command>', 'run this command (e.g. "INFO memory") and exit')
      .action(async (o: RedisOptions & { command?: string }) => {
        const { url } = await redisOf(o);
        const { code } = await redisCli(url, o.command ? o.command.split(/\s+/).filter(Boolean) : [], false);
        if (code) process.exitCode = code;
      });

    common(
      program.command('redis:info').description("show the app's Redis: plan, version, memory, clients"),
    ).action(async (o: RedisOptions) => {
      const { addon, url } = await redisOf(o);
      const r = await redisCli(url, ['INFO'], true);
      if (r.code)
        throw new SlipwayError('SLIPWAY_ERR_CLI_REDIS_INFO', `redis-cli INFO exited ${r.code}`, {
          hint: 'Is the Redis server up? `slipway logs -a APP` shows the add-on events.',
        });
      const info = parseRedisInfo(r.stdout);
      const view = {
        addon: addon.name,
        plan: addon.plan.name,
        created_at: addon.created_at,
        version: info.redis_version ?? null,
        used_memory: info.used_memory_human ?? null,
        maxmemory: info.maxmemory_human ?? null,
        maxmemory_policy: info.maxmemory_policy ?? null,
        connected_clients: Number(info.connected_clients ?? 0),
        uptime_seconds: Number(info.uptime_in_seconds ?? 0),
      };
      if (printJson(o, view)) return;
      out(`=== ${addon.config_vars.join(', ')} (${addon.name})`);
      table([
        ['Plan:', view.plan],
        ['Status:', 'available'],
        ['Created:', view.created_at],
        ['Version:', view.version ?? '?'],
        [
          'Memory:',
          `${view.used_memory ?? '?'} used of ${view.maxmemory === '0B' ? 'no limit' : (view.maxmemory ?? '?')}`,
        ],
        ['Maxmemory policy:', view.maxmemory_policy ?? '?'],
        ['Clients:', String(view.connected_clients)],
      ]);
    });
  },
};
