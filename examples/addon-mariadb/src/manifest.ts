/** The manifest a platform needs to consume this provider remotely (Heroku's addon-manifest.json). */
import { type AddonManifest, manifestOf } from '@slipway/addon-sdk';
import { mariadbDefinition } from './provider.js';

/**
 * The manifest, pointing at `baseUrl` (…/heroku/resources) when given. It keeps the
 * `slipway.optional_config_vars` extension (DATABASE_URL on request), which a Slipway platform
 * reads; `herokuManifest()` drops it for Heroku-shaped tools. The partner password is left out
 * on purpose: the platform is given it separately, as a secret.
 */
export function mariadbManifest(baseUrl?: string): AddonManifest {
  const m = manifestOf(mariadbDefinition());
  return baseUrl ? { ...m, api: { ...m.api, production: { base_url: baseUrl } } } : m;
}
