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
      factory: ({ get }) => {
        let inMaintenance = new Set<string>();
        get(platformContextRef).changes.subscribe((apps) => {
          inMaintenance = new Set(apps.filter((a) => a.maintenance).map((a) => a.name));
        });
        return { isInMaintenance: (app: string) => inMaintenance.has(app) };
      },
    });
  },
});
