/**
 * The MariaDB provider, JawsDB-style: each add-on is a database and a user with a random
 * password on a MariaDB server the provider runs itself; the app gets `MARIADB_URL`
 * (`mysql://user:password@host:port/database`, renamed by attachment: `--as PRIMARY` →
 * `PRIMARY_URL`) and, when the add-on is created with the `database_url` option
 * (`options: { database_url: 'true' }`, Heroku's `-- --database_url`), `DATABASE_URL` too.
 * Plans differ by the user's connection limit, which a plan change alters in place.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type AddonDefinition, type AddonPlan, optionAsked, type ProviderContext } from '@slipway/addon-sdk';
import { type MariaServer, type ServerOptions, startServer } from './server.js';
import { createTenant, dropTenant, setConnectionLimit, tenantOf } from './tenants.js';

/** Provider options (plugin options in-process, flags of the service). */
export interface MariadbOptions extends ServerOptions {
  /** Host put in the URLs apps get (default: the listen address). */
  host?: string;
}

/** What `setup` keeps: the server, started on first use and again after a failed start. */
export interface MariadbState {
  server(): Promise<MariaServer>;
}

/** Plans: the connection limit of the add-on's user. */
export const MARIADB_PLANS = [
  { name: 'mini', description: '10 connections', default: true, maxConnections: 10 },
  { name: 'basic', description: '30 connections', maxConnections: 30 },
  { name: 'standard', description: '100 connections', maxConnections: 100 },
] as const;

type Ctx = ProviderContext<MariadbOptions, MariadbState>;

function limitOf(plan: string | undefined): number {
  return (MARIADB_PLANS.find((p) => p.name === plan) ?? MARIADB_PLANS[0]).maxConnections;
}

/** The provider definition; pass it to `defineAddon` (in-process) or `serveAddon` (a remote service). */
export function mariadbDefinition(): AddonDefinition<MariadbOptions, MariadbState> {
  return {
    id: 'mariadb',
    name: 'MariaDB',
    pluginName: '@slipway-examples/addon-mariadb',
    plans: MARIADB_PLANS.map(
      ({ name, description, ...rest }): AddonPlan => ({
        name,
        description,
        ...('default' in rest ? { default: true } : {}),
      }),
    ),
    configVars: ['MARIADB_URL'],
    // Per add-on, not per service: one app's framework reads DATABASE_URL, another already has one.
    optionalConfigVars: {
      DATABASE_URL: {
        option: 'database_url',
        description: 'the MARIADB_URL again, for apps that read DATABASE_URL',
      },
    },
    optionsSchema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        binDir: { type: 'string' },
        runAs: { type: 'string' },
        listen: { type: 'string', default: '127.0.0.1' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 0 },
        host: { type: 'string' },
      },
    },

    async setup(ctx) {
      let starting: Promise<MariaServer> | undefined;
      const server = () => {
        starting ??= startServer(join(ctx.dataDir, 'server'), ctx.options, ctx).catch((e: unknown) => {
          starting = undefined; // the next provision tries again (e.g. once MariaDB is installed)
          throw e;
        });
        return starting;
      };
      // Start now so the first provision is fast, but a missing server must not stop the host:
      // provisions then fail with the coded error saying what to install.
      await server().catch((e: unknown) =>
        ctx.log.error((e as { describe?: () => string }).describe?.() ?? String(e)),
      );
      return { server };
    },

    async provision(req, ctx: Ctx) {
      const server = await ctx.state.server();
      const id = `mariadb-${randomBytes(8).toString('hex')}`;
      const t = tenantOf(id);
      const password = ctx.secret();
      await createTenant(server, t, password, limitOf(req.plan));
      const host = ctx.options.host ?? ctx.options.listen ?? '127.0.0.1';
      const url = `mysql://${t.user}:${password}@${host}:${server.port}/${t.database}`;
      ctx.log.info(`created database ${t.database} for ${req.app || 'an app'} (plan ${req.plan || 'mini'})`);
      return {
        id,
        config: { MARIADB_URL: url, ...(optionAsked(req.options.database_url) ? { DATABASE_URL: url } : {}) },
        message: `MariaDB database ${t.database} is ready`,
      };
    },

    async planChange(req, ctx: Ctx) {
      await setConnectionLimit(await ctx.state.server(), tenantOf(req.id), limitOf(req.plan));
    },

    async deprovision(req, ctx: Ctx) {
      const t = tenantOf(req.id);
      await dropTenant(await ctx.state.server(), t);
      ctx.log.info(`dropped database ${t.database} and user ${t.user}`);
    },
  };
}
