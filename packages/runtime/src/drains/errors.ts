/** Coded errors of log drains: which drain URLs the platform accepts. */
import { defineErrors } from '@slipway/core';

/** Errors of adding a log drain. */
export const drainErrors = defineErrors({
  SLIPWAY_ERR_RUNTIME_DRAIN_URL: {
    message: 'drain URL {url}: {detail}',
    hint: 'Use https://host/path (or http://), syslog://host:port or syslog+tls://host:port of a server outside the platform.',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_DRAIN_LIMIT: {
    message: 'app {app} already has {count} log drains (5 at most)',
    hint: 'Remove one with `slipway drains:remove URL -a {app}` first.',
    status: 422,
  },
});
