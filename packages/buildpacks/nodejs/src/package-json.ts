/**
 * What the Node.js buildpack reads from `package.json`: engines, scripts, dependency fields and
 * `packageManager`. Pure functions, so the rules are unit-tested without a build.
 */

/** The parts of package.json the buildpack uses. */
export interface PackageJson {
  name?: string;
  version?: string;
  engines?: Record<string, string>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  overrides?: unknown;
  resolutions?: unknown;
  packageManager?: string;
}

const STRING_MAPS = [
  'engines',
  'scripts',
  'dependencies',
  'devDependencies',
  'optionalDependencies',
] as const;

/** Check the shape of parsed package.json; returns what is wrong, or undefined when it is usable. */
export function packageJsonProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'it must contain a JSON object ({ "name": …, "dependencies": { … } })';
  const pkg = value as Record<string, unknown>;
  for (const field of STRING_MAPS) {
    const v = pkg[field];
    if (v === undefined) continue;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return `"${field}" must be an object`;
    for (const [k, s] of Object.entries(v as Record<string, unknown>))
      if (typeof s !== 'string') return `"${field}.${k}" must be a string`;
  }
  if (pkg.packageManager !== undefined && typeof pkg.packageManager !== 'string')
    return '"packageManager" must be a string such as "pnpm@9.15.9"';
  return undefined;
}

/**
 * The build scripts Heroku runs, in order: `heroku-postbuild` replaces `build` when both exist.
 * `heroku-prebuild` runs before the install and is returned separately.
 */
export function buildScripts(pkg: PackageJson): { prebuild?: string; build?: string; cleanup?: string } {
  const s = pkg.scripts ?? {};
  return {
    ...(s['heroku-prebuild'] ? { prebuild: 'heroku-prebuild' } : {}),
    ...(s['heroku-postbuild'] ? { build: 'heroku-postbuild' } : s.build ? { build: 'build' } : {}),
    ...(s['heroku-cleanup'] ? { cleanup: 'heroku-cleanup' } : {}),
  };
}

/** Heroku's default `web`: `npm start` when a start script exists, else `node server.js` when that file does. */
export function defaultWebCommand(pkg: PackageJson, hasServerJs: boolean): string | undefined {
  if (pkg.scripts?.start) return 'npm start';
  if (hasServerJs) return 'node server.js';
  return undefined;
}

/** The fields whose change must invalidate installed dependencies even when a lockfile exists. */
export function dependencyFingerprint(pkg: PackageJson): string {
  return JSON.stringify([
    pkg.dependencies ?? {},
    pkg.devDependencies ?? {},
    pkg.optionalDependencies ?? {},
    pkg.overrides ?? null,
    pkg.resolutions ?? null,
    pkg.packageManager ?? null,
  ]);
}
