/**
 * pg:backups and pg:psql. Backups are `pg_dump -Fc` files kept in the provider's data dir,
 * `<dataDir>/backups/<database>/b001.dump` with a `b001.json` beside it, numbered like Heroku's.
 * They run with the app's own DATABASE_URL, so a backup can only read what the app can read.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findPgTool } from './binaries.js';
import { postgresErrors } from './errors.js';
import { connArgs, connEnv, runTool } from './pg-tools.js';
import { parsePgUrl } from './server.js';

/** Where the platform keeps the Postgres provider's data, given the platform data dir. */
export function postgresDataDir(platformDataDir: string): string {
  return join(platformDataDir, 'addons', 'postgres');
}

/** Which database, and where its backups live. */
export interface BackupOptions {
  /** The provider's data dir (see `postgresDataDir`). */
  dataDir: string;
  /** The app's DATABASE_URL. */
  databaseUrl: string;
  /** Directory of the PostgreSQL programs (default: found like the provider does). */
  binDir?: string;
}

/** One stored backup. */
export interface BackupInfo {
  /** `b001`, `b002`, … */
  id: string;
  database: string;
  file: string;
  size: number;
  createdAt: string;
}

function backupDir(o: BackupOptions): { dir: string; database: string } {
  const database = parsePgUrl(o.databaseUrl).database;
  // Database names the provider makes are [a-z0-9]; refuse anything that could climb out of the dir.
  if (!/^[A-Za-z0-9_-]+$/.test(database))
    throw postgresErrors.SLIPWAY_ERR_POSTGRES_BACKUP({
      action: 'path',
      database,
      detail: 'unsupported database name',
    });
  return { dir: join(o.dataDir, 'backups', database), database };
}

/** Every backup of the database, oldest first. */
export async function listBackups(o: BackupOptions): Promise<BackupInfo[]> {
  const { dir } = backupDir(o);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: BackupInfo[] = [];
  for (const n of names.filter((x) => /^b\d{3,}\.json$/.test(x)).sort())
    out.push(JSON.parse(await readFile(join(dir, n), 'utf8')) as BackupInfo);
  return out;
}

/** `pg:backups:capture`: dump the database to the next `bNNN.dump`. */
export async function captureBackup(o: BackupOptions): Promise<BackupInfo> {
  const { dir, database } = backupDir(o);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const existing = await listBackups(o);
  const next = existing.length ? Number(existing[existing.length - 1]!.id.slice(1)) + 1 : 1;
  const id = `b${String(next).padStart(3, '0')}`;
  const file = join(dir, `${id}.dump`);
  const conn = parsePgUrl(o.databaseUrl);
  const pgDump = await findPgTool('pg_dump', o.binDir);
  const tmp = `${file}.partial`;
  const out = createWriteStream(tmp, { mode: 0o600 });
  const { done } = runTool(pgDump, ['-Fc', ...connArgs(conn)], connEnv(conn), { stdout: out });
  const r = await done;
  await new Promise<void>((resolve) => (out.closed ? resolve() : out.once('close', () => resolve())));
  if (r.code !== 0) {
    await rm(tmp, { force: true });
    throw postgresErrors.SLIPWAY_ERR_POSTGRES_BACKUP({
      action: 'capture',
      database,
      detail: r.stderr.trim() || `exit ${r.code}`,
    });
  }
  await rename(tmp, file);
  const info: BackupInfo = {
    id,
    database,
    file,
    size: (await stat(file)).size,
    createdAt: new Date().toISOString(),
  };
  await writeFile(join(dir, `${id}.json`), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  return info;
}

/** `pg:backups:restore`: replace the database's objects with a backup's (default: the latest). */
export async function restoreBackup(o: BackupOptions & { backup?: string }): Promise<BackupInfo> {
  const { database } = backupDir(o);
  const all = await listBackups(o);
  const info = o.backup ? all.find((b) => b.id === o.backup) : all[all.length - 1];
  if (!info)
    throw postgresErrors.SLIPWAY_ERR_POSTGRES_BACKUP_UNKNOWN({ backup: o.backup ?? '(latest)', database });
  const conn = parsePgUrl(o.databaseUrl);
  const pgRestore = await findPgTool('pg_restore', o.binDir);
  const { done } = runTool(
    pgRestore,
    [
      '--clean',
      '--if-exists',
      '--no-owner',
      '--no-privileges',
      '--single-transaction',
      '--exit-on-error',
      ...connArgs(conn),
      info.file,
    ],
    connEnv(conn),
  );
  const r = await done;
  if (r.code !== 0)
    throw postgresErrors.SLIPWAY_ERR_POSTGRES_BACKUP({
      action: 'restore',
      database,
      detail: r.stderr.trim() || `exit ${r.code}`,
    });
  return info;
}

/** `pg:psql`: the command that opens psql on a database; the password travels in `env`. */
export async function psqlCommand(
  databaseUrl: string,
  binDir?: string,
): Promise<{ command: string; args: string[]; env: NodeJS.ProcessEnv }> {
  const conn = parsePgUrl(databaseUrl);
  return { command: await findPgTool('psql', binDir), args: connArgs(conn), env: connEnv(conn) };
}
