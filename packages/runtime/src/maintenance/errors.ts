/** Coded errors of maintenance mode. */
import { defineErrors } from '@slipway/core';

/** Errors of turning maintenance mode on or off. */
export const maintenanceErrors = defineErrors({
  SLIPWAY_ERR_MAINTENANCE_DISABLED: {
    message:
      'maintenance mode of {app} cannot change: this platform runs without the slipway-maintenance plugin',
    hint: 'Remove "slipway-maintenance" from "disable" in the platform\'s slipway.config.json and restart it.',
    status: 422,
  },
});
