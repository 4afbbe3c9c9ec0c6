/**
 * Tenants: one database and one user (with its own random password) per add-on. The user is
 * granted its own database only, which is what stops one add-on's credentials from opening
 * another add-on's data; a plan is a per-user connection limit, enforced by the server.
 */
import type { MariaServer } from './server.js';

/** The database and user an add-on owns. */
export interface Tenant {
  database: string;
  user: string;
}

/** Resource ids look like `mariadb-0123456789abcdef`; names derive from them, so nothing else is stored. */
export const RESOURCE_ID = /^mariadb-([0-9a-f]{16})$/;

/** The tenant of a resource id; throws on an id this provider never made (names are built from it). */
export function tenantOf(id: string): Tenant {
  const m = RESOURCE_ID.exec(id);
  if (!m) throw new Error(`"${id}" is not a MariaDB add-on id (expected mariadb-<16 hex digits>)`);
  return { database: `db_${m[1]}`, user: `u_${m[1]}` };
}

/** Create the database and its user; on failure neither is left behind. */
export async function createTenant(
  server: MariaServer,
  t: Tenant,
  password: string,
  maxConnections: number,
): Promise<void> {
  await server.admin(`create database ${t.database}`, async (c) => {
    const db = c.escapeId(t.database);
    const user = `${c.escape(t.user)}@'%'`;
    try {
      await c.query(`CREATE DATABASE ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await c.query(
        `CREATE USER ${user} IDENTIFIED BY ${c.escape(password)} WITH MAX_USER_CONNECTIONS ${Number(maxConnections)}`,
      );
      await c.query(`GRANT ALL PRIVILEGES ON ${db}.* TO ${user}`);
    } catch (e) {
      await c.query(`DROP DATABASE IF EXISTS ${db}`).catch(() => {});
      await c.query(`DROP USER IF EXISTS ${user}`).catch(() => {});
      throw e;
    }
  });
}

/** Set the user's connection limit (a plan change). */
export async function setConnectionLimit(
  server: MariaServer,
  t: Tenant,
  maxConnections: number,
): Promise<void> {
  await server.admin(`change plan of ${t.user}`, async (c) => {
    await c.query(`ALTER USER ${c.escape(t.user)}@'%' WITH MAX_USER_CONNECTIONS ${Number(maxConnections)}`);
  });
}

/** Close the user's sessions, then drop the database and the user; missing ones are fine. */
export async function dropTenant(server: MariaServer, t: Tenant): Promise<void> {
  await server.admin(`drop database ${t.database}`, async (c) => {
    // DROP USER leaves open sessions running; a deprovisioned add-on must lose access at once.
    const [rows] = await c.query('SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?', [t.user]);
    for (const r of rows as { ID: number }[])
      await c.query(`KILL CONNECTION ${Number(r.ID)}`).catch(() => {});
    await c.query(`DROP DATABASE IF EXISTS ${c.escapeId(t.database)}`);
    await c.query(`DROP USER IF EXISTS ${c.escape(t.user)}@'%'`);
  });
}
