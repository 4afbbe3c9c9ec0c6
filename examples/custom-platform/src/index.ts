/** @slipway-examples/custom-platform: a Slipway platform composed from chosen plugins. */

export {
  CANARY_PLUGIN,
  CANARY_STAGE,
  type CanaryOptions,
  canaryPlugin,
  wantsCanary,
} from './canary-plugin.js';
export { BUILDPACKS, type CustomPlatformOptions, startCustomPlatform } from './platform.js';
