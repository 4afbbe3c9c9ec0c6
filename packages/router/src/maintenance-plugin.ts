/**
 * First-party plugin: maintenance mode through the `route` hook. The runtime passes the
 * maintenance state; while an app is in maintenance its requests get H80 (503) and a page,
 * without reaching a dyno.
 */
import { definePlugin, type RouteDecision } from '@slipway/core';
import { H_CODES, renderError } from './h-codes.js';
import { requestIdFor } from './request-id.js';

/** Where the plugin reads whether an app is in maintenance (the runtime's state). Must be cheap. */
export interface MaintenanceState {
  isInMaintenance(app: string): boolean;
}

/** Options of the maintenance plugin. */
export interface MaintenancePluginOptions {
  state: MaintenanceState;
  /** Custom text of the page (Heroku's MAINTENANCE_PAGE_URL is a page; this is its text). */
  message?: string;
}

/** Stage of the maintenance tap: after plugins that rewrite hosts, so it sees the final app. */
export const MAINTENANCE_STAGE = 100;

/** Maintenance mode as a kernel plugin: `kernel.use(maintenancePlugin, { state })`. */
export const maintenancePlugin = definePlugin<MaintenancePluginOptions>({
  name: '@slipway/router/maintenance',
  apply(kernel, options) {
    const { state } = options;
    if (!state || typeof state.isInMaintenance !== 'function')
      throw new TypeError('maintenancePlugin needs options.state with isInMaintenance(app)');
    kernel.hooks.route.tap(
      { name: '@slipway/router/maintenance', stage: MAINTENANCE_STAGE },
      (decision, req) => {
        if (decision.kind !== 'app' || !state.isInMaintenance(decision.app)) return decision;
        const info = H_CODES.H80;
        const accept = typeof req.headers.accept === 'string' ? req.headers.accept : undefined;
        const { contentType, body } = renderError(
          { ...info, page: options.message ?? info.page },
          requestIdFor(req.headers['x-request-id']),
          accept,
        );
        const answer: RouteDecision = {
          kind: 'respond',
          status: info.status,
          code: info.code,
          headers: {
            'Content-Type': contentType,
            'Cache-Control': 'no-cache, no-store',
            'Retry-After': '60',
          },
          body,
          app: decision.app,
        };
        return answer;
      },
    );
  },
});
