/**
 * What the platform process wires for the app workflow: maintenance mode through the router's
 * `route` hook, and the options of the workflow routes. The platform calls `refresh()` after
 * every API change, so maintenance follows the state without a database read per request.
 */
import type { Kernel } from '@slipway/core';
import { type MaintenanceState, maintenancePlugin } from '@slipway/router';
import type { WorkflowOptions } from '../api/routes-workflow.js';
import type { SelfAddress } from '../drains/drain-url.js';
import type { AppRecord } from '../state/records.js';

/** Inputs of `startWorkflow`. */
export interface WorkflowWiringOptions {
  kernel: Kernel;
  /** The platform's own listeners (drains must not point there); ports fill in as they bind. */
  self: SelfAddress & { ports: number[] };
  baseDomain: string;
}

/** The workflow parts of a running platform. */
export interface WorkflowWiring {
  /** Pass as `workflow` to `createApiServer`. */
  readonly apiOptions: WorkflowOptions & { self: SelfAddress & { ports: number[] } };
  /** Re-read the maintenance flags, for the apps the platform just listed. */
  refresh(apps: readonly AppRecord[]): void;
  /** Which apps are in maintenance (for a data plane that does not run the `route` hook). */
  readonly maintenance: MaintenanceState;
}

/** Install maintenance mode on the kernel. */
export async function startWorkflow(o: WorkflowWiringOptions): Promise<WorkflowWiring> {
  let inMaintenance = new Set<string>();
  const state = { isInMaintenance: (app: string) => inMaintenance.has(app) };
  if (!o.kernel.plugins.includes(maintenancePlugin.name)) await o.kernel.use(maintenancePlugin, { state });
  return {
    apiOptions: { baseDomain: o.baseDomain, self: o.self },
    maintenance: state,
    refresh(apps) {
      inMaintenance = new Set(apps.filter((a) => a.maintenance).map((a) => a.name));
    },
  };
}
