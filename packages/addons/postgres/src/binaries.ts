/**
 * Finding PostgreSQL's programs. Debian keeps the server binaries out of PATH
 * (`/usr/lib/postgresql/<major>/bin`) and puts version-dispatching wrappers for the clients in
 * /usr/bin, so the server directory is searched in PATH first, then there, newest major first;
 * client tools come from the same directory so pg_dump is never older than the server.
 */
import { constants } from 'node:fs';
import { access, readdir, realpath } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { postgresErrors } from './errors.js';

/** Where the server programs are. */
export interface PgBinaries {
  /** Directory holding initdb and postgres. */
  binDir: string;
  /** Absolute path of a program in binDir (falls back to PATH for client tools). */
  tool(name: 'initdb' | 'postgres' | 'pg_ctl' | 'psql' | 'pg_dump' | 'pg_restore'): string;
}

const SERVER = ['initdb', 'postgres'] as const;

async function executable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function hasAll(dir: string, names: readonly string[]): Promise<boolean> {
  for (const n of names) if (!(await executable(join(dir, n)))) return false;
  return true;
}

/** Candidate directories, in search order. */
export async function candidateBinDirs(explicit?: string, root = '/usr/lib/postgresql'): Promise<string[]> {
  if (explicit) return [explicit];
  const fromPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  let majors: string[] = [];
  try {
    majors = (await readdir(root))
      .filter((d) => /^\d+(\.\d+)?$/.test(d))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    // no Debian-style install
  }
  return [...fromPath, ...majors.map((m) => join(root, m, 'bin'))];
}

/** The first directory holding both initdb and postgres, or undefined. */
export async function findServerBinDir(explicit?: string): Promise<string | undefined> {
  // /usr/local/bin/postgres may be a symlink; its real directory also holds pg_dump of the same major.
  for (const dir of await candidateBinDirs(explicit))
    if (await hasAll(dir, SERVER)) return dirname(await realpath(join(dir, 'postgres')));
  return undefined;
}

/** The server binaries, or SLIPWAY_ERR_POSTGRES_NO_BINARIES. */
export async function findPgBinaries(explicit?: string): Promise<PgBinaries> {
  const binDir = await findServerBinDir(explicit);
  if (!binDir)
    throw postgresErrors.SLIPWAY_ERR_POSTGRES_NO_BINARIES({
      names: SERVER.join(' and '),
      where: explicit ?? 'PATH and /usr/lib/postgresql/*/bin',
    });
  return { binDir, tool: (name) => join(binDir, name) };
}

/** A client tool (psql, pg_dump, pg_restore): beside the server binaries if any, else in PATH. */
export async function findPgTool(
  name: 'psql' | 'pg_dump' | 'pg_restore',
  explicit?: string,
): Promise<string> {
  const dirs = [...(explicit ? [explicit] : []), ...(await candidateBinDirs())];
  const server = await findServerBinDir(explicit);
  if (server) dirs.unshift(server);
  for (const dir of dirs) if (await executable(join(dir, name))) return join(dir, name);
  throw postgresErrors.SLIPWAY_ERR_POSTGRES_TOOL_MISSING({
    tool: name,
    where: 'PATH and /usr/lib/postgresql/*/bin',
  });
}
