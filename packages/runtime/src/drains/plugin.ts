/**
 * Log drains as a first-party plugin: the `drains` table (its migrations), the
 * `/apps/:app/log-drains` routes and delivery (drain-service.ts), which follows the state
 * through the platform's change announcements. Leave it out with
 * `{ "disable": ["slipway-drains"] }`: the routes answer 404 and no line leaves the platform.
 */
import { clockRef, definePlugin, type Plugin } from '@slipway/core';
import { routeGroup } from '../api/route-groups.js';
import { logHubRef, platformContextRef, platformStateRef } from '../platform-services.js';
import { DrainService } from './drain-service.js';
import { DrainTable, drainMigrations } from './drain-table.js';
import { drainRoutes } from './routes.js';

/** The drains plugin's name (what `disable` takes). */
export const DRAINS_PLUGIN = 'slipway-drains';

/** Log drains: table, routes, delivery. */
export const drainsPlugin: Plugin = definePlugin({
  name: DRAINS_PLUGIN,
  register(reg) {
    let table: DrainTable | undefined;
    const tableOf = (): DrainTable => {
      if (!table) throw new Error('the drains plugin has not started (its table is opened at start)');
      return table;
    };
    reg.migrations('drains_migrations', drainMigrations);
    reg.apiRoutes(routeGroup(drainRoutes(tableOf)));
    let delivery: DrainService | undefined;
    reg.onStart((kernel) => {
      const context = kernel.resolve(platformContextRef);
      const opened = new DrainTable(kernel.resolve(platformStateRef).db);
      table = opened;
      const service = new DrainService({
        kernel,
        log: kernel.resolve(logHubRef),
        allowLoopback: context.self.allowLoopback === true,
        clock: kernel.resolve(clockRef),
      });
      delivery = service;
      context.changes.subscribe((apps) => {
        const names = new Map(apps.map((a) => [a.id, a.name]));
        service.set(
          opened
            .list()
            .filter((d) => names.has(d.appId))
            .map((d) => ({ id: d.id, app: names.get(d.appId) as string, url: d.url, token: d.token })),
        );
      });
    });
    reg.onStop(() => delivery?.close());
  },
});
