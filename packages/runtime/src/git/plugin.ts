/**
 * git push as a first-party plugin: the smart-HTTP endpoint on the API port
 * (`git push http://git:<token>@<api-host>/<app>.git main`), the pre-receive hook's callbacks,
 * and each app's repository (removed with the app). Left out with
 * `{ "disable": ["slipway-git-push"] }`, apps deploy by `slipway deploy` (sources and builds) only.
 */
import { definePlugin, type Plugin } from '@slipway/core';
import { routeGroup } from '../api/route-groups.js';
import { gitRoutes } from './routes.js';

/** git push: endpoint, hook callbacks, repositories. */
export const gitPushPlugin: Plugin = definePlugin({
  name: 'slipway-git-push',
  register(reg) {
    reg.apiRoutes(routeGroup(gitRoutes));
  },
});
