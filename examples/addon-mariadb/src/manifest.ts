/** The manifest a platform needs to consume this provider remotely (Heroku's addon-manifest.json). */
import { type AddonManifest, manifestOf } from '@slipway/addon-sdk';
import { type MariadbDefinitionOptions, mariadbDefinition } from './provider.js';

/**
 * The manifest for a service started with `opts`, pointing at `baseUrl` (…/heroku/resources).
 * The partner password is left out on purpose: the platform is given it separately, as a secret.
 */
export function mariadbManifest(opts: MariadbDefinitionOptions = {}, baseUrl?: string): AddonManifest {
  const m = manifestOf(mariadbDefinition(opts));
  return baseUrl ? { ...m, api: { ...m.api, production: { base_url: baseUrl } } } : m;
}
