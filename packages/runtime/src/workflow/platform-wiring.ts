/**
 * What the platform process wires for the app workflow: drain delivery fed from the state,
 * maintenance mode through the router's `route` hook, and the options of the workflow routes.
 * The platform calls `refresh()` after every API change, so both follow the state without
 * a database read per log line or per request.
 */
import type { Kernel, LogSink } from '@slipway/core';
import { type MaintenanceState, maintenancePlugin } from '@slipway/router';
import type { WorkflowOptions } from '../api/routes-workflow.js';
import { DrainService } from '../drains/drain-service.js';
import type { SelfAddress } from '../drains/drain-url.js';
import type { AppRecord } from '../state/records.js';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';

/** Inputs of `startWorkflow`. */
export interface WorkflowWiringOptions {
  kernel: Kernel;
  state: SqliteStateStore;
  log: LogSink;
  /** The listen address and the base domain (drains must not point there). */
  hosts: string[];
  baseDomain: string;
  /** Accept and deliver to drains on loopback addresses; default false. */
  allowLoopbackDrains?: boolean;
}

/** The workflow parts of a running platform. */
export interface WorkflowWiring {
  /** Pass as `workflow` to `createApiServer`; its `self.ports` fills in as listeners bind. */
  readonly apiOptions: WorkflowOptions & { self: SelfAddress & { ports: number[] } };
  /** Re-read drains and maintenance flags from the state, for the apps the platform just listed. */
  refresh(apps: readonly AppRecord[]): void;
  /** Which apps are in maintenance (for a data plane that does not run the `route` hook). */
  readonly maintenance: MaintenanceState;
  close(): void;
}

/** Start drain delivery and install maintenance mode on the kernel. */
export async function startWorkflow(o: WorkflowWiringOptions): Promise<WorkflowWiring> {
  const allowLoopback = o.allowLoopbackDrains === true;
  const drains = new DrainService({ kernel: o.kernel, log: o.log, allowLoopback });
  let inMaintenance = new Set<string>();
  const state = { isInMaintenance: (app: string) => inMaintenance.has(app) };
  if (!o.kernel.plugins.includes(maintenancePlugin.name)) await o.kernel.use(maintenancePlugin, { state });
  const self = { ports: [] as number[], hosts: o.hosts, allowLoopback };
  return {
    apiOptions: { baseDomain: o.baseDomain, self },
    maintenance: state,
    refresh(apps) {
      inMaintenance = new Set(apps.filter((a) => a.maintenance).map((a) => a.name));
      const names = new Map(apps.map((a) => [a.id, a.name]));
      drains.set(
        o.state
          .drains()
          .filter((d) => names.has(d.appId))
          .map((d) => ({ id: d.id, app: names.get(d.appId) as string, url: d.url, token: d.token })),
      );
    },
    close: () => drains.close(),
  };
}
