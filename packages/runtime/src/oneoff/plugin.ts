/**
 * One-off dynos (`slipway run`, `run:detached`, `ps:stop`) as a first-party plugin: their
 * routes and the attach WebSocket. Left out with `{ "disable": ["slipway-one-offs"] }`, the
 * platform runs formation dynos only (the release phase and postdeploy scripts still run).
 */
import { definePlugin, type Plugin } from '@slipway/core';
import { routeGroup } from '../api/route-groups.js';
import { oneOffRoutes } from './routes.js';

/** One-off dynos: routes and attach. */
export const oneOffsPlugin: Plugin = definePlugin({
  name: 'slipway-one-offs',
  register(reg) {
    reg.apiRoutes(routeGroup(oneOffRoutes));
  },
});
