/**
 * @slipway/addon-postgres: PostgreSQL databases for Slipway apps (shared and dedicated plans),
 * with pg:backups and pg:psql helpers.
 */
import { defineAddon } from '@slipway/addon-sdk';
import { postgresDefinition } from './provider.js';

export {
  type BackupInfo,
  type BackupOptions,
  captureBackup,
  listBackups,
  postgresDataDir,
  psqlCommand,
  restoreBackup,
} from './backups.js';
export {
  candidateBinDirs,
  findPgBinaries,
  findPgTool,
  findServerBinDir,
  type PgBinaries,
} from './binaries.js';
export { type DatabaseInfo, databaseInfo, resetDatabase } from './database-tools.js';
export { postgresErrors } from './errors.js';
export {
  POSTGRES_CONFIG_VARS,
  type PostgresOptions,
  type PostgresState,
  postgresDefinition,
  tenantOf,
} from './provider.js';
export { type PgConn, parsePgUrl, pgUrl } from './server.js';

/** The Postgres add-on plugin. */
export default defineAddon(postgresDefinition);
