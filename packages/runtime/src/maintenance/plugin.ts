/**
 * Maintenance mode as a first-party plugin: the `MaintenanceState` service (which apps are in
 * maintenance, following the state through the platform's change announcements), which the
 * platform hands to the router (the `route` hook's maintenance tap, or a data plane's own map).
 * The flag itself is the app's (`PATCH /apps/:app { maintenance }`). Left out with
 * `{ "disable": ["slipway-maintenance"] }`, no app is ever in maintenance and the flag is refused.
 */
import { createServiceRef, definePlugin, type Plugin } from '@slipway/core';
import type { MaintenanceState } from '@slipway/router';
import { platformContextRef } from '../platform-services.js';

/** Which apps are in maintenance; the router asks per request, so it answers from memory. */
export const maintenanceStateRef = createServiceRef<MaintenanceState>('MaintenanceState');

/** Maintenance mode: the state the router reads. */
export const maintenanceFeaturePlugin: Plugin = definePlugin({
  name: 'slipway-maintenance',
  register(reg) {
    reg.service({
      ref: maintenanceStateRef,
      deps: [platformContextRef],
      default: true,
      factory: ({ get, kernel }) => {
        let inMaintenance = new Set<string>();
        get(platformContextRef).changes.subscribe((apps) => {
          const now = new Set(apps.filter((a) => a.maintenance).map((a) => a.name));
          const changed = now.size !== inMaintenance.size || [...now].some((a) => !inMaintenance.has(a));
          inMaintenance = now;
          // The maintenance rule reads this set: the routers apply a flag turned on or off at once.
          if (changed) kernel.hooks.routeRulesChanged.call();
        });
        return { isInMaintenance: (app: string) => inMaintenance.has(app) };
      },
    });
  },
});
