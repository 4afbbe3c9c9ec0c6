/**
 * A few empty databases made ahead of time on the managed shared cluster. CREATE DATABASE copies
 * a template and flushes it to disk, which on a busy disk takes hundreds of milliseconds; taking a
 * spare is three renames and a password in one transaction, a few milliseconds. Spares are
 * `s<hex>` databases owned by a NOLOGIN role of the same name, already closed to PUBLIC; they are
 * found again after a restart by that name.
 */
import { randomBytes } from 'node:crypto';
import type { ProviderLog } from '@slipway/addon-sdk';
import { type PgServer, type Tenant, withAdmin } from './server.js';

const SPARE = /^s[0-9a-f]{12}$/;

/** Spare databases of one server. */
export class SparePool {
  private spares: string[] = [];
  private refilling: Promise<void> | undefined;
  private closed = false;
  private failures = 0;

  constructor(
    private readonly server: PgServer,
    private readonly size: number,
    private readonly log: ProviderLog,
  ) {}

  /** How many spares are ready. */
  get ready(): number {
    return this.spares.length;
  }

  /** Names of the ready spares. */
  get names(): readonly string[] {
    return [...this.spares];
  }

  /** Find the spares left by a previous run; drop half-made ones (a role without its database). */
  async load(): Promise<void> {
    await withAdmin(this.server, 'list spare databases', async (c) => {
      const dbs = new Set(
        (
          await c.query<{ n: string }>(
            "SELECT datname AS n FROM pg_database WHERE datname ~ '^s[0-9a-f]{12}$'",
          )
        ).rows.map((r) => r.n),
      );
      const roles = (
        await c.query<{ n: string }>("SELECT rolname AS n FROM pg_roles WHERE rolname ~ '^s[0-9a-f]{12}$'")
      ).rows;
      for (const { n } of roles)
        if (!dbs.has(n)) await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(n)}`);
      this.spares = [...dbs].filter((n) => roles.some((r) => r.n === n));
    });
  }

  /** Make spares in the background until there are `size` of them (one at a time). */
  refill(): void {
    if (this.refilling || this.closed) return;
    this.refilling = (async () => {
      while (!this.closed && this.spares.length < this.size) {
        const name = `s${randomBytes(6).toString('hex')}`;
        await withAdmin(this.server, 'create a spare database', async (c) => {
          const id = c.escapeIdentifier(name);
          await c.query(`CREATE ROLE ${id} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION`);
          try {
            await c.query(`CREATE DATABASE ${id} OWNER ${id} ENCODING 'UTF8' TEMPLATE template0`);
            await c.query(`REVOKE ALL ON DATABASE ${id} FROM PUBLIC`);
          } catch (e) {
            await c.query(`DROP DATABASE IF EXISTS ${id}`).catch(() => {});
            await c.query(`DROP ROLE IF EXISTS ${id}`).catch(() => {});
            throw e;
          }
        });
        this.spares.push(name);
      }
    })()
      .then(
        () => {
          this.failures = 0;
        },
        (e) => {
          // The server may be restarting after a crash: try again later, with back-off, a bounded
          // number of times (the provider has no shutdown hook that would tell us it is gone).
          if (this.closed || ++this.failures > 10) return;
          if (this.failures === 1)
            this.log.warn(`could not prepare a spare database (will retry): ${(e as Error).message}`);
          setTimeout(() => this.refill(), Math.min(30_000, 500 * 2 ** this.failures)).unref();
        },
      )
      .finally(() => {
        this.refilling = undefined;
      });
  }

  /**
   * Turn a spare into the tenant `t` with `password`; false when there is none (the caller then
   * creates the database itself). Starts a refill either way.
   */
  async take(t: Tenant, password: string): Promise<boolean> {
    const name = this.spares.shift();
    this.refill();
    if (!name || !SPARE.test(name)) return false;
    try {
      await withAdmin(this.server, `create database ${t.database}`, async (c) => {
        const from = c.escapeIdentifier(name);
        const role = c.escapeIdentifier(t.role);
        await c.query('BEGIN');
        await c.query(`ALTER ROLE ${from} RENAME TO ${role}`);
        await c.query(`ALTER ROLE ${role} LOGIN PASSWORD ${c.escapeLiteral(password)}`);
        await c.query(`ALTER DATABASE ${from} RENAME TO ${c.escapeIdentifier(t.database)}`);
        await c.query('COMMIT');
      });
      return true;
    } catch (e) {
      this.log.warn(
        `spare database ${name} could not be used (${(e as Error).message}); creating one instead`,
      );
      return false;
    }
  }

  /** Stop refilling (the server is going away). */
  close(): void {
    this.closed = true;
  }
}
