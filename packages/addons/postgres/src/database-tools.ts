/**
 * pg:info and pg:reset: read a database's figures and empty it, both with the app's own
 * DATABASE_URL (so they can do no more than the app itself can).
 */
import pg from 'pg';

/** What `pg:info` shows of one database. */
export interface DatabaseInfo {
  database: string;
  /** Server version, e.g. `15.14`. */
  version: string;
  /** Bytes on disk. */
  size: number;
  /** Open connections to this database, and the most it accepts. */
  connections: number;
  connectionLimit: number;
  /** Tables outside the system schemas. */
  tables: number;
}

async function withClient<T>(databaseUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Figures of the database `databaseUrl` names. */
export function databaseInfo(databaseUrl: string): Promise<DatabaseInfo> {
  return withClient(databaseUrl, async (c) => {
    const { rows } = await c.query(`
      SELECT current_database() AS database,
             current_setting('server_version') AS version,
             pg_database_size(current_database()) AS size,
             (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()) AS connections,
             (SELECT CASE WHEN datconnlimit < 0 THEN current_setting('max_connections')::int ELSE datconnlimit END
                FROM pg_database WHERE datname = current_database()) AS connection_limit,
             (SELECT count(*) FROM information_schema.tables
                WHERE table_schema NOT IN ('pg_catalog', 'information_schema')) AS tables`);
    const r = rows[0] as Record<string, string>;
    return {
      database: r.database as string,
      version: String(r.version).split(' ')[0] as string,
      size: Number(r.size),
      connections: Number(r.connections),
      connectionLimit: Number(r.connection_limit),
      tables: Number(r.tables),
    };
  });
}

/**
 * Empty the database, as Heroku's `pg:reset` does: every schema the app's role owns (and
 * `public`) is dropped with what it holds, and an empty `public` is made again.
 */
export function resetDatabase(databaseUrl: string): Promise<DatabaseInfo> {
  return withClient(databaseUrl, async (c) => {
    await c.query('BEGIN');
    try {
      const { rows } = await c.query(
        `SELECT nspname FROM pg_namespace
          WHERE nspname = 'public'
             OR (nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                 AND nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema')`,
      );
      for (const r of rows as { nspname: string }[])
        await c.query(`DROP SCHEMA ${c.escapeIdentifier(r.nspname)} CASCADE`);
      await c.query('CREATE SCHEMA public');
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    }
  }).then(() => databaseInfo(databaseUrl));
}
