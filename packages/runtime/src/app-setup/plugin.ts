/**
 * App setup (`apps:create --manifest app.json`, Heroku's app-setups) as a first-party plugin:
 * `/app-setups`, `GET /apps/:app/app-setup`, the postdeploy script after an app's first
 * release (app-setup-service.ts) and its `app_setups` table. Left out with `{ "disable": ["slipway-app-setup"] }`, apps
 * are created bare (`POST /apps`) and `/app-setups` answers 404.
 */
import { definePlugin, type Plugin } from '@slipway/core';
import { routeGroup } from '../api/route-groups.js';
import { appSetupMigrations } from './app-setup-table.js';
import { appSetupRoutes } from './routes.js';

/** App setup: routes and postdeploy. */
export const appSetupPlugin: Plugin = definePlugin({
  name: 'slipway-app-setup',
  register(reg) {
    reg.migrations('app_setup_migrations', appSetupMigrations);
    reg.apiRoutes(routeGroup(appSetupRoutes));
  },
});
