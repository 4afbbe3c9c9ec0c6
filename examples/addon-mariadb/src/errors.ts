/** The MariaDB add-on's error catalogue: users and tests match on the codes. */
import { defineErrors } from '@slipway/addon-sdk';

/** Coded errors of @slipway-examples/addon-mariadb. */
export const mariadbErrors = defineErrors({
  SLIPWAY_ERR_MARIADB_NO_BINARIES: {
    message: 'no MariaDB server binaries found (looked for {names} in {where})',
    hint: 'Install MariaDB (Debian: apt-get install mariadb-server mariadb-client) or set the option "binDir" to the directory holding mariadbd and mariadb-install-db.',
    status: 503,
  },
  SLIPWAY_ERR_MARIADB_INIT: {
    message: 'mariadb-install-db failed for {dir}: {detail}',
    hint: 'Check that {user} can write {dir} and that every parent directory is traversable by it.',
    status: 500,
  },
  SLIPWAY_ERR_MARIADB_ADMIN: {
    message: 'MariaDB admin operation "{action}" failed on {server}: {detail}',
    hint: 'Check that the server is up (its log is in the provider data dir, server/mariadbd.err) and that the admin account exists.',
    status: 502,
  },
});
