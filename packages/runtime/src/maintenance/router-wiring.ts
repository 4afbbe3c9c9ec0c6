/**
 * What the platform process wires for maintenance mode: the maintenance plugin's state (when
 * that plugin runs) through the router's `route` hook, and for a data plane that does not run
 * the hook. Without the plugin, no app is ever in maintenance.
 */
import type { Kernel } from '@slipway/core';
import { type MaintenanceState, maintenancePlugin } from '@slipway/router';
import { maintenanceStateRef } from './plugin.js';

/** Install maintenance mode on the started kernel; returns the state the router reads. */
export async function installMaintenance(kernel: Kernel): Promise<MaintenanceState> {
  const state = kernel.tryResolve(maintenanceStateRef);
  if (!state) return { isInMaintenance: () => false };
  if (!kernel.plugins.includes(maintenancePlugin.name)) await kernel.use(maintenancePlugin, { state });
  return state;
}
