/**
 * Choosing the package manager (from `packageManager` and the lockfile) and the exact commands
 * each one runs. Pure functions; the compile step runs what they return.
 */

/** A package manager the buildpack drives. */
export type PackageManagerName = 'npm' | 'yarn' | 'pnpm';

/** Lockfile names per package manager, in the order they are looked for. */
export const LOCKFILES: Readonly<Record<PackageManagerName, readonly string[]>> = Object.freeze({
  npm: ['package-lock.json', 'npm-shrinkwrap.json'],
  yarn: ['yarn.lock'],
  pnpm: ['pnpm-lock.yaml'],
});

/** Config files that change what an install produces, so they are part of the cache digest. */
export const INSTALL_CONFIG_FILES = ['.npmrc', '.yarnrc', '.yarnrc.yml', 'pnpm-workspace.yaml'] as const;

/** The package manager chosen for an app, and why. */
export interface PackageManagerChoice {
  name: PackageManagerName;
  /** The lockfile it installs from, when the app has one. */
  lockfile: string | undefined;
  /** Version pinned by `packageManager` (e.g. `9.15.9`), if any. */
  pinned: string | undefined;
}

/** Outcome of choosing: a choice, or the reason none can be made. */
export type ChooseResult =
  | { ok: true; choice: PackageManagerChoice }
  | { ok: false; reason: string; hint: string };

/**
 * Pick the package manager: `packageManager` wins; otherwise the one lockfile present; npm when
 * there is none. Two different lockfiles are an error, as on Heroku: the install would differ
 * from the developer's.
 */
export function choosePackageManager(present: readonly string[], packageManagerField?: string): ChooseResult {
  const found = (Object.keys(LOCKFILES) as PackageManagerName[]).flatMap((pm) =>
    LOCKFILES[pm].filter((f) => present.includes(f)).map((f) => ({ pm, file: f })),
  );
  if (packageManagerField !== undefined) {
    const m = /^(npm|yarn|pnpm)@([^+\s]+)/.exec(packageManagerField.trim());
    if (!m)
      return {
        ok: false,
        reason: `package.json "packageManager" is "${packageManagerField}", which names no supported package manager`,
        hint: 'Write it as "npm@<version>", "yarn@<version>" or "pnpm@<version>", or remove it.',
      };
    const name = m[1] as PackageManagerName;
    return { ok: true, choice: { name, lockfile: found.find((f) => f.pm === name)?.file, pinned: m[2] } };
  }
  const kinds = [...new Set(found.map((f) => f.pm))];
  if (kinds.length > 1)
    return {
      ok: false,
      reason: `found lockfiles of several package managers: ${found.map((f) => f.file).join(', ')}`,
      hint: 'Keep the lockfile of the package manager you use and delete the others (or set "packageManager" in package.json).',
    };
  if (kinds.length === 0)
    return { ok: true, choice: { name: 'npm', lockfile: undefined, pinned: undefined } };
  return { ok: true, choice: { name: found[0]!.pm, lockfile: found[0]!.file, pinned: undefined } };
}

/** True for Yarn 2 and later, which install differently from Yarn 1 (and may use Plug'n'Play). */
export function isYarnBerry(version: string): boolean {
  return !/^1\./.test(version);
}

/** Arguments (after the package manager's own name) that install every dependency, dev included. */
export function installArgs(pm: PackageManagerName, version: string, hasLockfile: boolean): string[] {
  switch (pm) {
    case 'npm':
      return [hasLockfile ? 'ci' : 'install', '--include=dev', '--no-audit', '--no-fund'];
    case 'pnpm':
      // Dev dependencies come from NODE_ENV=development in the install's environment.
      return ['install', hasLockfile ? '--frozen-lockfile' : '--no-frozen-lockfile'];
    case 'yarn':
      return isYarnBerry(version)
        ? ['install', ...(hasLockfile ? ['--immutable'] : [])]
        : [
            'install',
            ...(hasLockfile ? ['--frozen-lockfile'] : []),
            '--production=false',
            '--non-interactive',
          ];
  }
}

/** Arguments that remove dev dependencies, or undefined when this package manager cannot. */
export function pruneArgs(
  pm: PackageManagerName,
  version: string,
  hasLockfile: boolean,
): string[] | undefined {
  switch (pm) {
    case 'npm':
      return ['prune', '--omit=dev', '--no-audit', '--no-fund'];
    case 'pnpm':
      return ['prune', '--prod'];
    case 'yarn':
      // Yarn 1 has no prune: reinstalling with --production drops dev dependencies, offline.
      if (!isYarnBerry(version))
        return [
          'install',
          ...(hasLockfile ? ['--frozen-lockfile'] : []),
          '--production=true',
          '--ignore-scripts',
          '--prefer-offline',
          '--non-interactive',
        ];
      return Number.parseInt(version, 10) >= 4 ? ['workspaces', 'focus', '--all', '--production'] : undefined;
  }
}

/** Environment that points a package manager's download cache into `dir`. */
export function downloadCacheEnv(pm: PackageManagerName, dir: string): Record<string, string> {
  switch (pm) {
    case 'npm':
      return { npm_config_cache: dir };
    case 'pnpm':
      return { npm_config_store_dir: dir };
    case 'yarn':
      return { YARN_CACHE_FOLDER: dir };
  }
}
