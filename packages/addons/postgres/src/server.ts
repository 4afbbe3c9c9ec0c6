/**
 * A PostgreSQL server the provider can administer: one of its own clusters, or an existing
 * server given by an admin URL. Tenants (a database owned by a login role of the same suffix)
 * are created and dropped here; `REVOKE ALL … FROM PUBLIC` is what stops one add-on's role
 * from connecting to another add-on's database.
 */
import pg from 'pg';
import { postgresErrors } from './errors.js';

/** Connection settings of one role on one database. */
export interface PgConn {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** A server we can administer. */
export interface PgServer {
  /** For messages: `cluster 127.0.0.1:5433` (never credentials). */
  readonly label: string;
  /** Admin connection to database `db`. */
  admin(db?: string): PgConn;
  /** Host and port apps connect to. */
  readonly publicHost: string;
  readonly port: number;
}

/** A tenant: one database, one role. */
export interface Tenant {
  database: string;
  role: string;
}

/** Parse a postgres:// URL into connection settings. */
export function parsePgUrl(url: string): PgConn {
  const u = new URL(url);
  if (!/^postgres(ql)?:$/.test(u.protocol)) throw new Error(`not a postgres:// URL (scheme ${u.protocol})`);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
  };
}

/** The URL an app gets. */
export function pgUrl(c: PgConn): string {
  return `postgres://${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}@${c.host}:${c.port}/${encodeURIComponent(c.database)}`;
}

/** A server behind an existing admin URL (`postgres://admin:pw@db.internal:5432/postgres`). */
export function externalServer(adminUrl: string, publicHost?: string): PgServer {
  const c = parsePgUrl(adminUrl);
  return {
    label: `server ${c.host}:${c.port}`,
    admin: (db = c.database) => ({ ...c, database: db }),
    publicHost: publicHost ?? c.host,
    port: c.port,
  };
}

/** Run `fn` with a fresh admin client (no pool: nothing lingers to delay a server shutdown). */
export async function withAdmin<T>(
  server: PgServer,
  action: string,
  fn: (c: pg.Client) => Promise<T>,
  db?: string,
): Promise<T> {
  const client = new pg.Client({ ...server.admin(db), connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return await fn(client);
  } catch (e) {
    throw postgresErrors.SLIPWAY_ERR_POSTGRES_ADMIN(
      { action, server: server.label, detail: (e as Error).message },
      { cause: e },
    );
  } finally {
    await client.end().catch(() => {});
  }
}

/** Create the role (with `password`) and its database; on failure neither is left. */
export async function createTenant(server: PgServer, t: Tenant, password: string): Promise<void> {
  await withAdmin(server, `create database ${t.database}`, async (c) => {
    const role = c.escapeIdentifier(t.role);
    const db = c.escapeIdentifier(t.database);
    await c.query(
      `CREATE ROLE ${role} LOGIN PASSWORD ${c.escapeLiteral(password)} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION`,
    );
    try {
      await c.query(`CREATE DATABASE ${db} OWNER ${role} ENCODING 'UTF8' TEMPLATE template0`);
      await c.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    } catch (e) {
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => {});
      await c.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
      throw e;
    }
  });
}

/** Drop the database (disconnecting its sessions) and the role; missing ones are fine. */
export async function dropTenant(server: PgServer, t: Tenant): Promise<void> {
  await withAdmin(server, `drop database ${t.database}`, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(t.database)} WITH (FORCE)`);
    await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(t.role)}`);
  });
}

/** On a cluster we manage, tenants must not reach the maintenance databases either. */
export async function hardenCluster(server: PgServer): Promise<void> {
  await withAdmin(server, 'revoke public access', async (c) => {
    await c.query('REVOKE ALL ON DATABASE postgres FROM PUBLIC');
    await c.query('REVOKE ALL ON DATABASE template1 FROM PUBLIC');
  });
}
