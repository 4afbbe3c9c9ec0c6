/**
 * @slipway-examples/addon-mariadb: a MariaDB/MySQL add-on provider (JawsDB-style) written with
 * `@slipway/addon-sdk` only. Run it as a remote service (`slipway-addon-mariadb`, see main.ts)
 * or load the default export in-process with `kernel.use`.
 */
import { defineAddon } from '@slipway/addon-sdk';
import { mariadbDefinition } from './provider.js';

export { mariadbErrors } from './errors.js';
export { mariadbManifest } from './manifest.js';
export {
  MARIADB_PLANS,
  type MariadbOptions,
  type MariadbState,
  mariadbDefinition,
} from './provider.js';
export { type MariaServer, type ServerOptions, startServer } from './server.js';
export { RESOURCE_ID, type Tenant, tenantOf } from './tenants.js';

/** The provider as an in-process plugin (MARIADB_URL; DATABASE_URL too with the `database_url` option). */
export const mariadbAddon = defineAddon(mariadbDefinition());

export default mariadbAddon;
