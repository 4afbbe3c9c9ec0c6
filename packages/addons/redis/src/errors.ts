/** The Redis add-on's error catalogue. */
// defineErrors is core's; the add-on SDK does not re-export it (yet), so this one import is from core.
import { defineErrors } from '@slipway/addon-sdk';

/** Coded errors of @slipway/addon-redis. */
export const redisErrors = defineErrors({
  SLIPWAY_ERR_REDIS_TLS: {
    message: 'making the TLS certificate of Redis instance {id} failed: {detail}',
    hint: 'Install openssl (Debian: apt-get install openssl) on the platform machine and try again.',
  },
  SLIPWAY_ERR_REDIS_NO_SERVER: {
    message: 'redis-server not found (looked in {where})',
    hint: 'Install Redis (Debian: apt-get install redis-server; the provider starts its own servers, the system service can stay stopped) or set the plugin option "redisServer" to its path.',
    status: 503,
  },
  SLIPWAY_ERR_REDIS_PORT_BUSY: {
    message: 'port {port} of Redis instance {id} is taken by another process',
    hint: "Stop whatever listens on 127.0.0.1:{port} (the app's REDIS_URL points at it), then restart the platform.",
    status: 503,
  },
  SLIPWAY_ERR_REDIS_INSTANCE_MISSING: {
    message: 'Redis instance {id} has no files in {dir}',
    hint: 'Its data dir was removed by hand; destroy the add-on and create a new one.',
    status: 500,
  },
});
