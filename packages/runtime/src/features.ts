/**
 * The platform's features as first-party plugins, each in its folder (service, routes, schemas,
 * tables, plugin.ts): defaults of the composition, so the config file's `disable` leaves one out
 * by name (`{ "disable": ["slipway-drains"] }`) and a config plugin of the same name replaces it.
 */
import type { Plugin } from '@slipway/core';
import { appSetupPlugin } from './app-setup/plugin.js';
import { domainsPlugin } from './domains/plugin.js';
import { drainsPlugin } from './drains/plugin.js';
import { gitPushPlugin } from './git/plugin.js';
import { maintenanceFeaturePlugin } from './maintenance/plugin.js';
import { oneOffsPlugin } from './oneoff/plugin.js';

/** The feature plugins, in the order the platform composes them. */
export const FEATURE_PLUGINS: readonly Plugin[] = [
  gitPushPlugin,
  appSetupPlugin,
  domainsPlugin,
  drainsPlugin,
  maintenanceFeaturePlugin,
  oneOffsPlugin,
];
