/**
 * The MariaDB server a provider administers: its own `mariadbd`, initialised once with
 * `mariadb-install-db` under the provider's data dir, listening on a loopback port that is
 * chosen once and kept (apps' URLs point at it), and run under the provider's supervisor.
 * The provider administers it as `slipway_admin` over the unix socket only.
 */
import { execFile } from 'node:child_process';
import { access, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import {
  freePort,
  type ProviderLog,
  type Supervised,
  type SuperviseOptions,
  type Unprivileged,
  type UnprivilegedOptions,
} from '@slipway/addon-sdk';
import mysql from 'mysql2/promise';
import { mariadbErrors } from './errors.js';

const run = promisify(execFile);

/** The admin account; it exists only at 'localhost', i.e. on the unix socket. */
export const ADMIN_USER = 'slipway_admin';

/** How to start the server. */
export interface ServerOptions {
  /** Directory holding mariadbd and mariadb-install-db (default: PATH, /usr/sbin, /usr/bin). */
  binDir?: string;
  /** Unprivileged user mariadbd runs as when the provider is root (default mysql, else nobody). */
  runAs?: string;
  /** Address mariadbd listens on (default 127.0.0.1). */
  listen?: string;
  /** TCP port; 0 or absent picks a free one on first start and keeps it. */
  port?: number;
}

/** What is needed from the provider context to run the server. */
export interface ServerHost {
  log: ProviderLog;
  secret(bytes?: number): string;
  supervise(opts: SuperviseOptions): Promise<Supervised>;
  /** The SDK's `ctx.runAs`: who runs mariadbd (an unprivileged user when root). */
  runAs(opts?: Omit<UnprivilegedOptions, 'log'>): Promise<Unprivileged>;
}

/** Kept in `<dir>/server.json` (0600) so a restart reuses the port and the admin password. */
interface ServerRecord {
  port: number;
  adminPassword: string;
}

/** A running server the provider can administer. */
export interface MariaServer {
  /** For messages: `mariadbd 127.0.0.1:PORT` (never credentials). */
  readonly label: string;
  readonly port: number;
  /** Run `fn` with a fresh admin connection (no pool: nothing lingers at shutdown). */
  admin<T>(action: string, fn: (c: mysql.Connection) => Promise<T>): Promise<T>;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Find a program in `binDir`, else PATH, /usr/sbin and /usr/bin; undefined when none of `names` is there. */
async function findProgram(names: string[], binDir?: string): Promise<string | undefined> {
  const dirs = binDir
    ? [binDir]
    : [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/bin'];
  for (const d of dirs) for (const n of names) if (await exists(join(d, n))) return join(d, n);
  return undefined;
}

/** Start (initialising on first use) the server kept in `dir`. */
export async function startServer(dir: string, opts: ServerOptions, host: ServerHost): Promise<MariaServer> {
  const serverNames = ['mariadbd', 'mysqld'];
  const installNames = ['mariadb-install-db', 'mysql_install_db'];
  const mariadbd = await findProgram(serverNames, opts.binDir);
  const installDb = await findProgram(installNames, opts.binDir);
  if (!mariadbd || !installDb)
    throw mariadbErrors.SLIPWAY_ERR_MARIADB_NO_BINARIES({
      names: [...serverNames, ...installNames].join(', '),
      where: opts.binDir ?? 'PATH, /usr/sbin, /usr/bin',
    });
  // mariadbd drops privileges itself (--user), so the account and its directories are what is needed.
  const runAs = await host.runAs({
    purpose: 'mariadbd',
    preferred: ['mysql', 'nobody'],
    ...(opts.runAs ? { user: opts.runAs } : {}),
  });
  const user = runAs.user;
  const listen = opts.listen ?? '127.0.0.1';
  const data = join(dir, 'data');
  const runDir = join(dir, 'run');
  const socket = join(runDir, 'mariadbd.sock');
  for (const d of [data, runDir]) await runAs.prepareDir(d);

  const recordFile = join(dir, 'server.json');
  let record = await readFile(recordFile, 'utf8')
    .then((t) => JSON.parse(t) as ServerRecord)
    .catch(() => undefined);
  if (!record) {
    record = { port: opts.port || (await freePort(listen)), adminPassword: host.secret() };
    await writeFile(recordFile, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  }
  const { port, adminPassword } = record;
  const label = `mariadbd ${listen}:${port}`;
  const userArgs = user ? [`--user=${user.name}`] : [];
  const tuning = ['--innodb-log-file-size=16M', '--innodb-buffer-pool-size=64M'];

  if (!(await exists(join(data, 'mysql'))))
    await initialise(installDb, data, runAs, [...userArgs, ...tuning], host);

  // Runs at every start, so a lost or changed admin password is always put right.
  const initFile = join(runDir, 'init.sql');
  const pw = mysql.escape(adminPassword);
  await writeFile(
    initFile,
    `CREATE USER IF NOT EXISTS '${ADMIN_USER}'@'localhost' IDENTIFIED BY ${pw};\n` +
      `ALTER USER '${ADMIN_USER}'@'localhost' IDENTIFIED BY ${pw};\n` +
      `GRANT ALL PRIVILEGES ON *.* TO '${ADMIN_USER}'@'localhost' WITH GRANT OPTION;\n`,
    { mode: 0o600 },
  );
  await runAs.own(initFile);

  const connect = () =>
    mysql.createConnection({
      socketPath: socket,
      user: ADMIN_USER,
      password: adminPassword,
      connectTimeout: 5000,
    });
  await host.supervise({
    name: 'mariadbd',
    command: mariadbd,
    args: [
      '--no-defaults',
      `--datadir=${data}`,
      `--socket=${socket}`,
      `--port=${port}`,
      `--bind-address=${listen}`,
      `--pid-file=${join(runDir, 'mariadbd.pid')}`,
      `--log-error=${join(runDir, 'mariadbd.err')}`,
      `--init-file=${initFile}`,
      '--skip-name-resolve',
      '--max-connections=300',
      ...userArgs,
      ...tuning,
    ],
    ready: async () => {
      try {
        await (await connect()).end();
        return true;
      } catch {
        return false;
      }
    },
    readyTimeoutMs: 60_000,
    stopGraceMs: 20_000,
  });
  host.log.info(`${label} is up (data in ${data})`);

  return {
    label,
    port,
    async admin(action, fn) {
      let c: mysql.Connection | undefined;
      try {
        c = await connect();
        return await fn(c);
      } catch (e) {
        throw mariadbErrors.SLIPWAY_ERR_MARIADB_ADMIN(
          { action, server: label, detail: (e as Error).message },
          { cause: e },
        );
      } finally {
        await c?.end().catch(() => {});
      }
    },
  };
}

/** Create the system tables; a failed attempt is removed so the next start tries again. */
async function initialise(
  installDb: string,
  data: string,
  runAs: Unprivileged,
  extra: string[],
  host: ServerHost,
): Promise<void> {
  host.log.info(`initialising a MariaDB data dir in ${data}`);
  try {
    await run(installDb, [
      '--no-defaults',
      `--datadir=${data}`,
      '--auth-root-authentication-method=socket',
      '--skip-test-db',
      ...extra,
    ]);
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    const tail = `${err.stderr ?? ''}\n${err.stdout ?? ''}`.trim().split('\n').slice(-3).join(' | ');
    await rm(data, { recursive: true, force: true });
    await runAs.prepareDir(data);
    throw mariadbErrors.SLIPWAY_ERR_MARIADB_INIT({
      dir: data,
      user: runAs.user?.name ?? 'the provider user',
      detail: tail || err.message,
    });
  }
}
