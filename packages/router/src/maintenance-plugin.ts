/**
 * First-party plugin: maintenance mode as a route rule (`routeRules`). The runtime passes the
 * maintenance state; while an app is in maintenance its requests get H80 (503) and the
 * router's page, without reaching a dyno, on either data plane.
 */
import { definePlugin, type RouteRule } from '@slipway/core';
import { H_CODES } from './h-codes.js';

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
  register(reg, options) {
    const { state } = options;
    if (!state || typeof state.isInMaintenance !== 'function')
      throw new TypeError('maintenancePlugin needs options.state with isInMaintenance(app)');
    // One rule object for every app: checked once, and the same map entries on HAProxy.
    const rule: RouteRule = Object.freeze({
      name: 'maintenance',
      action: Object.freeze({
        kind: 'respond',
        status: H_CODES.H80.status,
        code: 'H80',
        ...(options.message ? { page: options.message } : {}),
        headers: Object.freeze({ 'Retry-After': '60' }),
      }),
    });
    reg.hooks.routeRules.tap({ name: reg.name, stage: MAINTENANCE_STAGE }, (rules, ctx) => {
      if (state.isInMaintenance(ctx.app)) rules.push(rule);
      return rules;
    });
  },
});
