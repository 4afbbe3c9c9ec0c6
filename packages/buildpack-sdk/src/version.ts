/** `requireVersion`: does the installed tool satisfy what the app asks for? */
import semver from 'semver';
import { buildpackErrors } from './errors.js';

/**
 * Accept the spellings other ecosystems use for the same ranges: PEP 440 (`>=3.11,<3.13`,
 * `==3.12.*`, `~=3.11`) as well as npm's.
 */
export function toSemverRange(constraint: string): string {
  return constraint
    .split(',')
    .map((part) => {
      const p = part.trim().replace(/\.\*$/, '.x');
      const compatible = /^~=\s*(\d+)\.(\d+)(?:\.(\d+))?$/.exec(p);
      if (compatible) {
        const [, major, minor, patch] = compatible;
        // ~=3.11 means >=3.11, <4; ~=3.11.2 means >=3.11.2, <3.12.
        return patch === undefined
          ? `>=${major}.${minor}.0 <${Number(major) + 1}.0.0`
          : `~${major}.${minor}.${patch}`;
      }
      return p.replace(/^==\s*/, '=');
    })
    .join(' ');
}

/**
 * Check `installed` (any version text: `v20.11.1`, `go1.22.1`, `17.0.9+9`) against `constraint`
 * (`20`, `20.x`, `3.11`, `>=18 <21`, `^1.22`…). Returns the installed version; throws a coded
 * error that tells the user what to change otherwise. No constraint accepts anything.
 */
export function requireVersion(tool: string, constraint: string | undefined, installed: string): string {
  const wanted = constraint?.trim().replace(/^v(?=\d)/, '');
  if (!wanted) return installed;
  const range = semver.validRange(toSemverRange(wanted), { loose: true });
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
