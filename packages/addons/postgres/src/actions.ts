/**
 * The Postgres provider's actions, which the platform exposes without knowing this provider
 * (`slipway pg:info`, `pg:reset`, `pg:backups[:capture|:restore]` call them): each runs with the
 * database URL the provider recorded for the resource, so it reaches only that app's database.
 */
import type { AddonActionDefinition, ProviderActionRequest, ProviderContext } from '@slipway/addon-sdk';
import { captureBackup, listBackups, restoreBackup } from './backups.js';
import { databaseInfo, resetDatabase } from './database-tools.js';
import { postgresErrors } from './errors.js';
import type { PostgresOptions, PostgresState } from './provider.js';

type Ctx = ProviderContext<PostgresOptions, PostgresState>;
type Action = AddonActionDefinition<PostgresOptions, PostgresState>;

/** The resource's own URL (its `POSTGRES_URL`, as provisioned). */
function databaseUrl(req: ProviderActionRequest): string {
  const url = req.resource.config.POSTGRES_URL ?? req.resource.config.DATABASE_URL;
  if (!url) throw postgresErrors.SLIPWAY_ERR_POSTGRES_NO_URL({ id: req.resource.id });
  return url;
}

/** Where the backups of the resource's database live, and with which programs. */
const backupOptions = (req: ProviderActionRequest, ctx: Ctx) => ({
  dataDir: ctx.dataDir,
  databaseUrl: databaseUrl(req),
  ...(ctx.options.binDir ? { binDir: ctx.options.binDir } : {}),
});

/** `pg:info`, `pg:reset` and `pg:backups*`, by action name. */
export const postgresActions: Readonly<Record<string, Action>> = {
  info: {
    description: "the database's plan, version, size, connections and tables",
    readOnly: true,
    async run(req) {
      const info = await databaseInfo(databaseUrl(req));
      return {
        addon: req.addon.name,
        plan: `${req.addon.service}:${req.addon.plan}`,
        created_at: req.addon.createdAt,
        ...info,
      };
    },
  },
  reset: {
    description: 'delete every table and all data of the database',
    run: (req) => resetDatabase(databaseUrl(req)),
  },
  'backups:list': {
    description: 'the backups of the database, oldest first',
    readOnly: true,
    run: (req, ctx) => listBackups(backupOptions(req, ctx)),
  },
  'backups:capture': {
    description: 'capture a backup of the database now',
    run: (req, ctx) => captureBackup(backupOptions(req, ctx)),
  },
  'backups:restore': {
    description: 'restore a backup (default the latest) into the database, replacing its tables',
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      properties: { backup: { type: 'string', pattern: '^b\\d{3,}$' } },
    },
    run: (req, ctx) =>
      restoreBackup({
        ...backupOptions(req, ctx),
        ...(typeof req.input.backup === 'string' ? { backup: req.input.backup } : {}),
      }),
  },
};
