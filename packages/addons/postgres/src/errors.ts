/** The Postgres add-on's error catalogue. */
// defineErrors is core's; the add-on SDK does not re-export it (yet), so this one import is from core.
import { defineErrors } from '@slipway/addon-sdk';

/** Coded errors of @slipway/addon-postgres. */
export const postgresErrors = defineErrors({
  SLIPWAY_ERR_POSTGRES_NO_BINARIES: {
    message: 'no PostgreSQL server binaries found (looked for {names} in {where})',
    hint: 'Install PostgreSQL (Debian: apt-get install postgresql), set the plugin option "binDir" to the directory holding initdb and postgres, or set "adminUrl" to use an existing server. The embedded PGlite fallback is not available in this build (see the package README).',
    status: 503,
  },
  SLIPWAY_ERR_POSTGRES_TOOL_MISSING: {
    message: 'PostgreSQL client tool {tool} not found (looked in {where})',
    hint: 'Install the PostgreSQL client (Debian: apt-get install postgresql-client) or set "binDir".',
    status: 503,
  },
  SLIPWAY_ERR_POSTGRES_INITDB: {
    message: 'initdb failed for {dir}: {detail}',
    hint: 'Check that {user} can write {dir} and every parent directory is traversable by it; the output above says more.',
  },
  SLIPWAY_ERR_POSTGRES_TLS: {
    message: 'making the TLS certificate of the PostgreSQL cluster in {dir} failed: {detail}',
    hint: 'Install openssl (Debian: apt-get install openssl) on the platform machine, then restart the platform.',
  },
  SLIPWAY_ERR_POSTGRES_PORT_BUSY: {
    message: 'port {port} of the PostgreSQL cluster in {dir} is taken by another process',
    hint: "Stop whatever listens on 127.0.0.1:{port} (the apps' DATABASE_URL point at this port), then restart the platform.",
    status: 503,
  },
  SLIPWAY_ERR_POSTGRES_ADMIN: {
    message: 'PostgreSQL admin operation "{action}" failed on {server}: {detail}',
    hint: 'Check that the server is up and that the admin role may CREATE ROLE and CREATE DATABASE.',
    status: 502,
  },
  SLIPWAY_ERR_POSTGRES_BACKUP: {
    message: 'pg:backups {action} failed for database {database}: {detail}',
    hint: 'Check the database URL and that the backup exists (list them with listBackups); the output above says more.',
    status: 500,
  },
  SLIPWAY_ERR_POSTGRES_BACKUP_UNKNOWN: {
    message: 'no backup {backup} for database {database}',
    hint: 'List the backups with listBackups (pg:backups) and pass one of their ids, e.g. b001.',
    status: 404,
  },
  SLIPWAY_ERR_POSTGRES_NO_URL: {
    message: 'Postgres resource {id} has no POSTGRES_URL on record',
    hint: 'The resource was provisioned without a URL; destroy and re-create the add-on.',
    status: 500,
  },
});
