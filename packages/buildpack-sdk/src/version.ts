/** `requireVersion`: does the installed tool satisfy what the app asks for? */
import semver from 'semver';
import { buildpackErrors } from './errors.js';

/**
 * Check `installed` (any version text: `v20.11.1`, `go1.22.1`, `17.0.9+9`) against `constraint`
 * (`20`, `20.x`, `3.11`, `>=18 <21`, `^1.22`…). Returns the installed version; throws a coded
 * error that tells the user what to change otherwise. No constraint accepts anything.
 */
export function requireVersion(tool: string, constraint: string | undefined, installed: string): string {
  const wanted = constraint?.trim().replace(/^v(?=\d)/, '');
  if (!wanted) return installed;
  const range = semver.validRange(wanted, { loose: true });
  if (range === null) throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_VERSION_RANGE({ tool, constraint: wanted });
  const have = semver.coerce(installed, { loose: true, includePrerelease: false });
  if (have === null || !semver.satisfies(have, range, { loose: true }))
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_VERSION({
      tool,
      installed,
      constraint: wanted,
      major: have?.major ?? installed,
    });
  return installed;
}
