/**
 * What the platform process wires for the app workflow: drain delivery fed from the state,
 * maintenance mode through the router's `route` hook, and the options of the workflow routes.
 * The platform calls `refresh()` after every API change, so both follow the state without
 * a database read per log line or per request.
 */
import type { Kernel, LogSink } from '@slipway/core';
import { maintenancePlugin } from '@slipway/router';
import type { WorkflowOptions } from '../api/routes-workflow.js';
import { DrainService, type DrainServiceOptions } from '../drains/drain-service.js';
import type { SelfAddress } from '../drains/drain-url.js';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';

/** Inputs of `startWorkflow`. */
export interface WorkflowWiringOptions {
  kernel: Kernel;
  state: SqliteStateStore;
  log: LogSink;
  /** The listen address and the base domain (drains must not point there). */
  hosts: string[];
  baseDomain: string;
  /** Drain tuning (tests shorten the back-off). */
  drains?: Omit<DrainServiceOptions, 'kernel' | 'log'>;
  /** Attach/idle timeouts of one-off dynos. */
  run?: Pick<WorkflowOptions, 'runIdleTimeoutMs' | 'attachTimeoutMs'>;
}

/** The workflow parts of a running platform. */
export interface WorkflowWiring {
  readonly drains: DrainService;
  /** Pass as `workflow` to `createApiServer`; its `self.ports` fills in as listeners bind. */
  readonly apiOptions: WorkflowOptions & { self: SelfAddress & { ports: number[] } };
  /** Re-read drains and maintenance flags from the state. */
  refresh(): void;
  close(): void;
}

/** Start drain delivery and install maintenance mode on the kernel. */
export async function startWorkflow(o: WorkflowWiringOptions): Promise<WorkflowWiring> {
  const drains = new DrainService({ kernel: o.kernel, log: o.log, ...o.drains });
  let inMaintenance = new Set<string>();
  const state = { isInMaintenance: (app: string) => inMaintenance.has(app) };
  if (!o.kernel.plugins.includes(maintenancePlugin.name)) {
    try {
      await o.kernel.use(maintenancePlugin, { state });
    } catch (e) {
      // A kernel composed from a config file is sealed; the tap is still ours to add.
      if ((e as { code?: string }).code !== 'SLIPWAY_ERR_KERNEL_SEALED') throw e;
      await maintenancePlugin.apply(o.kernel, { state });
    }
  }
  const self = { ports: [] as number[], hosts: o.hosts };
  return {
    drains,
    apiOptions: { baseDomain: o.baseDomain, self, ...o.run },
    refresh() {
      const apps = o.state.listApps();
      inMaintenance = new Set(apps.filter((a) => a.maintenance).map((a) => a.name));
      drains.set(
        apps.flatMap((a) =>
          o.state.drains(a.id).map((d) => ({ id: d.id, app: a.name, url: d.url, token: d.token })),
        ),
      );
    },
    close: () => drains.close(),
  };
}
