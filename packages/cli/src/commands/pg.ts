/**
 * `pg:psql [-c SQL]`, `pg:backups`, `pg:backups:capture`, `pg:backups:restore [BACKUP]`. Backups
 * run on the platform (it holds the provider's data dir), with the app's own DATABASE_URL;
 * psql runs here, with the password in PGPASSWORD rather than on the command line.
 */
import { spawn } from 'node:child_process';
import { SlipwayError } from '@slipway/core';
import type { Command } from 'commander';
import { type ClientOptions, clientFor, out, requireApp, table } from '../api-client.js';
import type { CommandModule } from './index.js';

interface BackupView {
  id: string;
  database: string;
  size: number;
  createdAt: string;
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

const q = (o: PgOptions) => (o.addon ? `?addon=${encodeURIComponent(o.addon)}` : '');
const base = (o: PgOptions) => `/apps/${encodeURIComponent(requireApp(o))}/pg/backups`;

/** Postgres verbs. */
export const pgCommands: CommandModule = {
  register(program: Command) {
    const common = (c: Command) =>
      c
        .option('-a, --app <app>', 'app name')
        .option('--addon <name>', 'which postgres attachment (default the first)')
        .option('--json', 'print JSON')
        .option('--data-dir <dir>', 'platform data dir holding credentials.json');

    common(program.command('pg:psql').description("open psql on the app's database"))
      .option('-c, --command <sql>', 'run this SQL and exit')
      .action(async (o: PgOptions & { command?: string }) => {
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
        const list = await clientFor(o).json<BackupView[]>('GET', `${base(o)}${q(o)}`);
        if (o.json) return out(JSON.stringify(list, null, 2));
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
        const b = await clientFor(o).json<BackupView>('POST', `${base(o)}${q(o)}`);
        if (o.json) return out(JSON.stringify(b, null, 2));
        out(`Backup ${b.id} of ${b.database} captured (${b.size} B)`);
      },
    );

    common(
      program
        .command('pg:backups:restore')
        .argument('[backup]', 'backup id (b001…); default the latest')
        .description('restore a backup into the database (replaces its tables)'),
    ).action(async (backup: string | undefined, o: PgOptions) => {
      const b = await clientFor(o).json<BackupView>(
        'POST',
        `${base(o)}/restore${q(o)}`,
        backup ? { backup } : {},
      );
      if (o.json) return out(JSON.stringify(b, null, 2));
      out(`Restored ${b.id} into ${b.database}`);
    });
  },
};
