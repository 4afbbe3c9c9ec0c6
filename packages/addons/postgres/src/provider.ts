/**
 * The Postgres provider. Plans:
 * - `shared` (default): a database and a login role with a random password per add-on, on one
 *   cluster the platform manages (or on an existing server given by `adminUrl`).
 * - `dedicated`: the add-on gets its own cluster (own postmaster, own port).
 * Clusters live under the provider's data dir and are started again by `setup` after a
 * platform restart; a plan change moves the data with pg_dump | pg_restore.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddonDefinition, ProviderContext, ProvisionResult } from '@slipway/addon-sdk';
import { postgresActions } from './actions.js';
import { findPgBinaries, findPgTool, type PgBinaries } from './binaries.js';
import { Cluster, type ClusterEnv } from './cluster.js';
import { postgresErrors } from './errors.js';
import { copyDatabase } from './pg-tools.js';
import {
  createTenant,
  dropTenant,
  externalServer,
  hardenCluster,
  type PgServer,
  pgUrl,
  type Tenant,
} from './server.js';
import { SparePool } from './spare-pool.js';

/** Plugin options of the Postgres provider. */
export interface PostgresOptions {
  /** Use this existing server for the shared plan instead of a managed cluster. */
  adminUrl?: string;
  /** Directory with initdb and postgres (default: PATH, then /usr/lib/postgresql/<newest>/bin). */
  binDir?: string;
  /** Unprivileged user the server runs as when the platform is root (default postgres, else nobody). */
  runAs?: string;
  /** Address managed clusters listen on (default 127.0.0.1). */
  listen?: string;
  /** Host put in DATABASE_URL (default 127.0.0.1, or the adminUrl's host). */
  host?: string;
  /** Empty databases kept ready on the managed shared cluster, for fast provisioning (default 2). */
  spareDatabases?: number;
}

/** What `setup` keeps for the provider's functions. */
export interface PostgresState {
  /** The shared server, started on first use (or at setup when it already exists). */
  shared(): Promise<PgServer>;
  /** Running dedicated clusters by resource id. */
  dedicated: Map<string, Cluster>;
  /** Environment to create new clusters (undefined when no server binaries exist). */
  clusterEnv: ClusterEnv | undefined;
  bins: PgBinaries | undefined;
  /** Spare databases on the managed shared cluster (none with `adminUrl`). */
  spares: SparePool | undefined;
}

type Ctx = ProviderContext<PostgresOptions, PostgresState>;

/** The provider's config vars: the attachment-named URL and Heroku's DATABASE_URL. */
export const POSTGRES_CONFIG_VARS = ['POSTGRES_URL', 'DATABASE_URL'] as const;

/** Resource id → the database and role names it owns (derived, so nothing else must be stored). */
export function tenantOf(id: string): Tenant {
  const suffix = id.replace(/^postgresql-/, '').replace(/[^a-z0-9]/g, '');
  return { database: `d${suffix}`, role: `u${suffix}` };
}

/** A cluster seen as an administrable server. */
export function clusterServer(c: Cluster, publicHost: string): PgServer {
  return {
    label: `cluster ${c.adminHost}:${c.info.port}`,
    admin: (db = 'postgres') => {
      const a = c.adminConfig(db);
      return {
        host: c.adminHost,
        port: a.port!,
        user: a.user!,
        password: a.password as string,
        database: db,
      };
    },
    publicHost,
    port: c.info.port,
  };
}

function noBinaries(binDir: string | undefined, names: string) {
  return postgresErrors.SLIPWAY_ERR_POSTGRES_NO_BINARIES({
    names,
    where: binDir ?? 'PATH and /usr/lib/postgresql/*/bin',
  });
}

function needBinaries(ctx: Ctx): ClusterEnv {
  const env = ctx.state.clusterEnv;
  if (!env) throw noBinaries(ctx.options.binDir, 'initdb and postgres (needed by the dedicated plan)');
  return env;
}

async function startCluster(c: Cluster, harden: boolean, publicHost: string): Promise<PgServer> {
  await c.start();
  const server = clusterServer(c, publicHost);
  if (harden) await hardenCluster(server);
  return server;
}

async function config(server: PgServer, t: Tenant, password: string): Promise<ProvisionResult['config']> {
  const url = pgUrl({
    host: server.publicHost,
    port: server.port,
    user: t.role,
    password,
    database: t.database,
  });
  return { POSTGRES_URL: url, DATABASE_URL: url };
}

/** Create the tenant on the server a plan puts it on; returns that server. */
async function place(ctx: Ctx, id: string, plan: string, password: string): Promise<PgServer> {
  const t = tenantOf(id);
  if (plan === 'dedicated') {
    const c = new Cluster(join(ctx.dataDir, 'dedicated', id), needBinaries(ctx));
    await c.create();
    try {
      const server = await startCluster(c, true, ctx.options.host ?? '127.0.0.1');
      await createTenant(server, t, password);
      ctx.state.dedicated.set(id, c);
      return server;
    } catch (e) {
      await c.destroy();
      throw e;
    }
  }
  const server = await ctx.state.shared();
  if (!(await ctx.state.spares?.take(t, password))) await createTenant(server, t, password);
  return server;
}

/** Remove the tenant from wherever it lives. */
async function remove(ctx: Ctx, id: string): Promise<void> {
  const c = ctx.state.dedicated.get(id);
  if (c) {
    await c.destroy();
    ctx.state.dedicated.delete(id);
    return;
  }
  await dropTenant(await ctx.state.shared(), tenantOf(id));
}

async function serverOf(ctx: Ctx, id: string): Promise<PgServer> {
  const c = ctx.state.dedicated.get(id);
  return c ? clusterServer(c, ctx.options.host ?? '127.0.0.1') : ctx.state.shared();
}

async function setup(ctx: ProviderContext<PostgresOptions, undefined>): Promise<PostgresState> {
  const o = ctx.options;
  // Missing binaries must not stop the platform from starting: say so now, fail each provision
  // that needs them with the coded error (its hint says what to install).
  const bins = await findPgBinaries(o.binDir).catch((e) => {
    const e2 = e as Error & { hint?: string };
    ctx.log.warn(
      o.adminUrl
        ? `${e2.message}; only the shared plan on ${new URL(o.adminUrl).host} is available`
        : `${e2.message}; Postgres add-ons cannot be provisioned. ${e2.hint ?? ''}`,
    );
    return undefined;
  });
  const clusterEnv: ClusterEnv | undefined = bins && {
    bins,
    runAs: await ctx.runAs({
      purpose: 'PostgreSQL',
      preferred: ['postgres', 'nobody'],
      ...(o.runAs ? { user: o.runAs } : {}),
    }),
    log: ctx.log,
    secret: (n) => ctx.secret(n),
    supervise: (s) => ctx.supervise(s),
    ...(o.listen ? { listen: o.listen } : {}),
  };
  if (clusterEnv?.runAs.user)
    ctx.log.info(`running PostgreSQL as ${clusterEnv.runAs.user.name} (the platform is root)`);
  const publicHost = o.host ?? '127.0.0.1';
  let shared: Promise<PgServer> | undefined;
  const sharedServer = () => {
    if (o.adminUrl) return Promise.resolve(externalServer(o.adminUrl, o.host));
    if (!clusterEnv) return Promise.reject(noBinaries(o.binDir, 'initdb and postgres'));
    shared ??= (async () => {
      const c = new Cluster(join(ctx.dataDir, 'shared'), clusterEnv!);
      if (!(await c.load())) {
        ctx.log.info(`creating the shared PostgreSQL cluster in ${c.dir}`);
        await c.create();
      }
      const server = await startCluster(c, true, publicHost);
      const size = o.spareDatabases ?? 2;
      if (size > 0) {
        state.spares = new SparePool(server, size, ctx.log);
        await state.spares.load();
        state.spares.refill();
      }
      return server;
    })();
    // A failed start may be retried by the next provision.
    shared.catch(() => {
      shared = undefined;
    });
    return shared;
  };
  const state: PostgresState = {
    shared: sharedServer,
    dedicated: new Map(),
    clusterEnv,
    bins,
    spares: undefined,
  };
  if (!clusterEnv) return state;
  // Bring back what existed before the restart: the shared cluster and every dedicated one.
  const restore: Promise<unknown>[] = [];
  if (!o.adminUrl && (await new Cluster(join(ctx.dataDir, 'shared'), clusterEnv).load()))
    restore.push(sharedServer());
  const dedDir = join(ctx.dataDir, 'dedicated');
  await mkdir(dedDir, { recursive: true });
  for (const id of await readdir(dedDir)) {
    const c = new Cluster(join(dedDir, id), clusterEnv);
    if (!(await c.load())) {
      ctx.log.warn(`removing the incomplete cluster ${c.dir}`);
      await c.destroy();
      continue;
    }
    restore.push(c.start().then(() => state.dedicated.set(id, c)));
  }
  await Promise.all(restore);
  return state;
}

/** The provider definition (exported for tests and for serving it over the partner API). */
export const postgresDefinition: AddonDefinition<PostgresOptions, PostgresState> = {
  id: 'postgres',
  name: 'Slipway Postgres',
  plans: [
    {
      name: 'shared',
      description: 'A database and role on the platform-managed PostgreSQL server',
      default: true,
      // Heroku Postgres' small plans share a server too.
      aliases: ['essential-*', 'mini', 'basic', 'hobby-*', 'dev'],
    },
    {
      name: 'dedicated',
      description: 'A PostgreSQL cluster of its own',
      aliases: ['standard-*', 'premium-*', 'private-*', 'shield-*'],
    },
  ],
  // app.json files and tutorials written for Heroku name it so.
  aliases: ['heroku-postgresql'],
  configVars: [...POSTGRES_CONFIG_VARS],
  optionsSchema: {
    type: 'object',
    properties: {
      adminUrl: { type: 'string', pattern: '^postgres(ql)?://' },
      binDir: { type: 'string' },
      runAs: { type: 'string' },
      listen: { type: 'string' },
      host: { type: 'string' },
      spareDatabases: { type: 'integer', minimum: 0, maximum: 20 },
    },
  },
  setup,
  actions: postgresActions,
  async provision(req, ctx) {
    const id = `postgresql-${randomBytes(6).toString('hex')}`;
    const password = ctx.secret(24);
    const server = await place(ctx, id, req.plan, password);
    const cfg = await config(server, tenantOf(id), password);
    return {
      id,
      config: cfg,
      message: `${req.plan === 'dedicated' ? 'Dedicated cluster' : 'Database'} ${tenantOf(id).database} is ready`,
    };
  },
  async planChange(req, ctx) {
    const wasDedicated = ctx.state.dedicated.has(req.id);
    if (wasDedicated === (req.plan === 'dedicated')) return undefined;
    const t = tenantOf(req.id);
    const from = await serverOf(ctx, req.id);
    const oldCluster = ctx.state.dedicated.get(req.id);
    // The new home is built beside the old one, filled, and only then is the old one dropped.
    ctx.state.dedicated.delete(req.id);
    const password = ctx.secret(24);
    let to: PgServer;
    try {
      to = await place(ctx, req.id, req.plan, password);
    } catch (e) {
      if (oldCluster) ctx.state.dedicated.set(req.id, oldCluster);
      throw e;
    }
    const tools = {
      pgDump: await findPgTool('pg_dump', ctx.options.binDir),
      pgRestore: await findPgTool('pg_restore', ctx.options.binDir),
    };
    try {
      await copyDatabase(tools, from.admin(t.database), to.admin(t.database), t.role);
    } catch (e) {
      await remove(ctx, req.id).catch(() => {});
      if (oldCluster) ctx.state.dedicated.set(req.id, oldCluster);
      throw e;
    }
    if (oldCluster) await oldCluster.destroy();
    else await dropTenant(from, t);
    return { id: req.id, config: await config(to, t, password), message: `moved to the ${req.plan} plan` };
  },
  async deprovision(req, ctx) {
    await remove(ctx, req.id);
  },
};
