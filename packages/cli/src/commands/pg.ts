/**
 * `pg:info`, `pg:credentials`, `pg:reset`, `pg:psql [-c SQL]` (`psql`), `pg:backups`,
 * `pg:backups:capture`, `pg:backups:restore [BACKUP]`. Info, reset and backups are the Postgres
 * provider's actions, run on the platform (it holds the provider's data dir) through the generic
 * add-on action route; psql runs here, with the password in PGPASSWORD, not on the command line.
 */
import { spawn } from 'node:child_process';
import { SlipwayError } from '@slipway/core';
import type { Command } from 'commander';
import { readAddonAction, runAddonAction } from '../addon-actions.js';
import {
  addonVerb,
  type ClientOptions,
  clientFor,
  out,
  printJson,
  requireApp,
  table,
} from '../api-client.js';
import type { CommandModule } from './index.js';

interface BackupView {
  id: string;
  database: string;
  size: number;
  createdAt: string;
}

/** `GET /apps/:app/pg/info` (the postgres provider's action; its shape is the provider's). */
interface PgInfo {
  addon: string;
  plan: string;
  created_at: string;
  database: string;
  version: string;
  size: number;
  connections: number;
  connectionLimit: number;
  tables: number;
}

type PgOptions = ClientOptions & { addon?: string };

/** psql's arguments and environment for a postgres:// URL (the password only in the env). */
export function psqlInvocation(databaseUrl: string): { args: string[]; env: Record<string, string> } {
  const u = new URL(databaseUrl);
  if (!/^postgres(ql)?:$/.test(u.protocol))
    throw new SlipwayError('SLIPWAY_ERR_CLI_PG_URL', `not a postgres:// URL: ${u.protocol}//${u.host}`, {
      hint: "Check the app's DATABASE_URL (`slipway config -a APP`).",
      status: 400,
    });
  return {
    args: [
      '-h',
      u.hostname,
      '-p',
      u.port || '5432',
      '-U',
      decodeURIComponent(u.username),
      '-d',
      decodeURIComponent(u.pathname.slice(1)),
    ],
    env: { PGPASSWORD: decodeURIComponent(u.password) },
  };
}

/** The app's database URL: `--addon NAME` → NAME_URL, else DATABASE_URL; a coded error when unset. */
async function databaseUrl(o: PgOptions): Promise<{ key: string; url: string }> {
  const vars = await clientFor(o).json<Record<string, string>>(
    'GET',
    `/apps/${encodeURIComponent(requireApp(o))}/config-vars`,
  );
  const key = o.addon ? `${o.addon}_URL` : 'DATABASE_URL';
  const url = vars[key];
  if (!url)
    throw new SlipwayError('SLIPWAY_ERR_CLI_NO_DATABASE', `${requireApp(o)} has no ${key}`, {
      hint: `Create a database with \`slipway addons:create postgres -a ${requireApp(o)}\`.`,
      status: 404,
    });
  return { key, url };
}

/** libpq's key=value connection string for a postgres:// URL (`pg:credentials`). */
export function connectionInfo(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  const sslmode = u.searchParams.get('sslmode');
  return [
    `dbname=${decodeURIComponent(u.pathname.slice(1))}`,
    `host=${u.hostname}`,
    `port=${u.port || '5432'}`,
    `user=${decodeURIComponent(u.username)}`,
    `password=${decodeURIComponent(u.password)}`,
    ...(sslmode ? [`sslmode=${sslmode}`] : []),
  ].join(' ');
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** Postgres verbs. */
export const pgCommands: CommandModule = {
  register(program: Command) {
    const common = (c: Command, json = true) => addonVerb(c, 'postgres', json);

    common(
      program
        .command('pg:info')
        .description("show the app's database: plan, version, size, connections, tables"),
    ).action(async (o: PgOptions) => {
      const i = await readAddonAction<PgInfo>(o, 'postgres', 'info');
      if (printJson(o, i)) return;
      out(`=== ${o.addon ? `${o.addon}_URL` : 'DATABASE_URL'} (${i.addon})`);
      table([
        ['Plan:', i.plan],
        ['Status:', 'Available'],
        ['Connections:', `${i.connections}/${i.connectionLimit}`],
        ['PG Version:', i.version],
        ['Created:', i.created_at],
        ['Data Size:', mb(i.size)],
        ['Tables:', String(i.tables)],
        ['Database:', i.database],
        ['Add-on:', i.addon],
      ]);
    });

    common(
      program
        .command('pg:credentials')
        .alias('pg:credentials:url')
        .description("show the connection string and URL of the app's database"),
    ).action(async (o: PgOptions) => {
      const { key, url } = await databaseUrl(o);
      if (printJson(o, { config_var: key, url, connection_info: connectionInfo(url) })) return;
      out(`Connection information for default credential (${key}).`);
      out('Connection info string:');
      out(`   "${connectionInfo(url)}"`);
      out('Connection URL:');
      out(`   ${url}`);
    });

    common(
      program
        .command('pg:reset')
        .option('--confirm <app>', 'the app name again, to confirm')
        .description("delete every table and all data of the app's database"),
    ).action(async (o: PgOptions & { confirm?: string }) => {
      const app = requireApp(o);
      if (o.confirm !== app) {
        process.stderr.write(
          ` !     This deletes all data in ${app}'s database. Run again with --confirm ${app}\n`,
        );
        process.exitCode = 1;
        return;
      }
      const i = await runAddonAction<{ database: string; tables: number }>(
        o,
        'postgres',
        'reset',
        {},
        `Resetting the database of ${app}`,
      );
      if (printJson(o, i)) return;
      out(`Resetting ${i.database} on ${app}... done (${i.tables} tables)`);
    });

    common(program.command('pg:psql').alias('psql').description("open psql on the app's database"), false)
      .option('-c, --command <sql>', 'run this SQL and exit')
      .action(async (o: PgOptions & { command?: string }) => {
        const { url } = await databaseUrl(o);
        const { args, env } = psqlInvocation(url);
        if (o.command) args.push('-c', o.command);
        const code = await new Promise<number>((resolve, reject) => {
          const child = spawn('psql', args, { stdio: 'inherit', env: { ...process.env, ...env } });
          child.once('error', (e) =>
            reject(
              new SlipwayError('SLIPWAY_ERR_CLI_NO_PSQL', `cannot run psql: ${e.message}`, {
                hint: 'Install the PostgreSQL client (Debian: apt-get install postgresql-client).',
              }),
            ),
          );
          child.once('exit', (c) => resolve(c ?? 1));
        });
        if (code) process.exitCode = code;
      });

    common(program.command('pg:backups').description("list the app's database backups")).action(
      async (o: PgOptions) => {
        const list = await readAddonAction<BackupView[]>(o, 'postgres', 'backups:list');
        if (printJson(o, list)) return;
        if (!list.length)
          return out(`No backups. Capture one with \`slipway pg:backups:capture -a ${requireApp(o)}\`.`);
        table([
          ['Id', 'Created', 'Size', 'Database'],
          ...list.map((b) => [b.id, b.createdAt, `${b.size} B`, b.database]),
        ]);
      },
    );

    common(program.command('pg:backups:capture').description('capture a backup of the database now')).action(
      async (o: PgOptions) => {
        const b = await runAddonAction<BackupView>(
          o,
          'postgres',
          'backups:capture',
          {},
          'Capturing a backup',
        );
        if (printJson(o, b)) return;
        out(`Backup ${b.id} of ${b.database} captured (${b.size} B)`);
      },
    );

    common(
      program
        .command('pg:backups:restore')
        .argument('[backup]', 'backup id (b001…); default the latest')
        .description('restore a backup into the database (replaces its tables)'),
    ).action(async (backup: string | undefined, o: PgOptions) => {
      const b = await runAddonAction<BackupView>(
        o,
        'postgres',
        'backups:restore',
        backup ? { backup } : {},
        'Restoring the backup',
      );
      if (printJson(o, b)) return;
      out(`Restored ${b.id} into ${b.database}`);
    });
  },
};
