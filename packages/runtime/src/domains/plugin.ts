/**
 * Custom domains as a first-party plugin: the `/apps/:app/domains` routes. The domains table
 * stays the state store's: the router and the certificates read it whether or not this plugin
 * runs (left out with `{ "disable": ["slipway-domains"] }`, no domain can be added or removed).
 */
import { definePlugin, type Plugin } from '@slipway/core';
import { routeGroup } from '../api/route-groups.js';
import { domainRoutes } from './routes.js';

/** Custom domains: routes. */
export const domainsPlugin: Plugin = definePlugin({
  name: 'slipway-domains',
  register(reg) {
    reg.apiRoutes(routeGroup(domainRoutes));
  },
});
