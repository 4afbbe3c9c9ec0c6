/**
 * Where each app's builds and dynos may write and read, and nothing else. The layout:
 *
 * ```
 * <dataDir>/            0711 root  (0700 when not root): state.db*, credentials.json, git/,
 *                                  slug-store/, tmp/ … all 0600/0700, never listable
 * <runtimeDir>/         0711 root  the only way in for app uids; not listable
 *   apps/               0711 root
 *     <app>/            0750 root:<app gid>   the fence: only that app's uid gets past it
 *       slugs/<sum>/    root, read-only to the app: its unpacked slugs (shared by its dynos)
 *       dynos/<id>/home 0700 <app uid>        each dyno's HOME and TMPDIR
 *       build/<id>/     0700 <app uid>        a build's source, work dir and slug result
 *       cache/          0700 <app uid>        the build cache (one subdir per buildpack)
 *       home/           0700 <app uid>        the build HOME: npm, pip, Maven, Go caches
 *       buildpacks/     0700 <app uid>        buildpacks the app pinned (git clones, npm)
 * ```
 *
 * `<runtimeDir>` is `<dataDir>/run` when every parent of the data dir lets others pass
 * (o+x), so everything stays in one place; when a parent is private (a clone in /root, mode
 * 0700) app uids could never reach it, so it is `/var/lib/slipway/run/<hash of the data dir>`
 * instead: the platform never loosens the permissions of a directory it does not own. The
 * choice is recorded in `<dataDir>/runtime-dir` on first start and kept (an add-on server that
 * later adds o+x to a parent must not move every app's build cache). A shared runtime dir
 * names its data dir in `.data-dir`; one whose data dir is gone is removed at the next start.
 * The fence is root-owned so that an app cannot swap a directory the platform later works in
 * for a symlink; only the leaves are the app's.
 */
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { runtimeErrors } from '../errors.js';
import { type AppUser, isRoot } from './app-users.js';

/** Where runtime dirs go when the data dir has a private parent. */
export const SHARED_RUNTIME_ROOT = '/var/lib/slipway/run';

/** True when every directory from `dir` up to `/` lets others pass (o+x). */
export async function othersCanReach(dir: string): Promise<boolean> {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const st = await stat(d).catch(() => undefined);
    if (!st || !(st.mode & 0o001)) return false;
    if (dirname(d) === d) return true;
  }
}

/** The runtime dir of a data dir (see the file header for the rule). */
export async function defaultRuntimeDir(dataDir: string): Promise<string> {
  const d = resolve(dataDir);
  if (!isRoot() || (await othersCanReach(dirname(d)))) return join(d, 'run');
  return join(SHARED_RUNTIME_ROOT, createHash('sha256').update(d).digest('hex').slice(0, 16));
}

/** mkdir -p with `mode`, refusing a symlink or a directory someone else owns (a planted path). */
async function platformDir(dir: string, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  const st = await lstat(dir);
  const me = process.getuid?.() ?? 0;
  if (!st.isDirectory() || st.uid !== me)
    throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DATA_DIR({
      dir,
      detail: `it is ${st.isDirectory() ? `owned by uid ${st.uid}` : 'not a directory'}, not by the platform's user (uid ${me})`,
    });
  await chmod(dir, mode);
}

/**
 * Make the data dir the platform's alone: 0711 as root (add-on servers running as their own
 * users pass through to their dirs, nobody lists it), 0700 otherwise; the state database,
 * credentials and uid table 0600; slugs, repos, uploads and legacy caches 0700.
 */
export async function secureDataDir(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, isRoot() ? 0o711 : 0o700);
  for (const f of [
    'state.db',
    'state.db-wal',
    'state.db-shm',
    'credentials.json',
    'app-uids.json',
    'runtime-dir',
  ])
    await chmod(join(dataDir, f), 0o600).catch(() => {});
  for (const d of ['slug-store', 'git', 'tmp', 'buildpacks', 'cache', 'slug-cache', 'dynos'])
    await chmod(join(dataDir, d), 0o700).catch(() => {});
}

/** Remove shared runtime dirs whose data dir no longer exists (deleted with `rm -rf`, a test's temp dir). */
async function sweepOrphans(keep: string): Promise<void> {
  for (const name of await readdir(SHARED_RUNTIME_ROOT).catch(() => [] as string[])) {
    const dir = join(SHARED_RUNTIME_ROOT, name);
    if (dir === keep) continue;
    const owner = (await readFile(join(dir, '.data-dir'), 'utf8').catch(() => '')).trim();
    if (owner && !(await stat(owner).catch(() => undefined))) await rm(dir, { recursive: true, force: true });
  }
}

/** The per-app directories under one runtime dir. */
export class AppDirs {
  private constructor(
    /** The runtime dir. */
    readonly root: string,
  ) {}

  /** Create (or check) the runtime dir for `dataDir` (`runtimeDir` overrides the recorded or default one). */
  static async open(dataDir: string, runtimeDir?: string): Promise<AppDirs> {
    const record = join(dataDir, 'runtime-dir');
    const recorded = (await readFile(record, 'utf8').catch(() => '')).trim();
    const root = resolve(runtimeDir ?? (recorded || (await defaultRuntimeDir(dataDir))));
    try {
      const shared = root.startsWith(`${SHARED_RUNTIME_ROOT}/`);
      if (shared) {
        await platformDir(dirname(SHARED_RUNTIME_ROOT), 0o711);
        await platformDir(SHARED_RUNTIME_ROOT, 0o711);
        await sweepOrphans(root);
      }
      await platformDir(root, 0o711);
      if (shared) await writeFile(join(root, '.data-dir'), `${resolve(dataDir)}\n`, { mode: 0o600 });
      await platformDir(join(root, 'apps'), 0o711);
      if (root !== recorded) await writeFile(record, `${root}\n`, { mode: 0o600 });
    } catch (e) {
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DATA_DIR(
        { dir: root, detail: (e as Error).message },
        { cause: e },
      );
    }
    return new AppDirs(root);
  }

  /** `<root>/apps/<app>`: root-owned, group the app's gid, 0750 (0700 without a user). */
  async app(app: string, user: AppUser | undefined): Promise<string> {
    const dir = join(this.root, 'apps', app);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (user) {
      await chown(dir, 0, user.gid);
      await chmod(dir, 0o750);
    }
    return dir;
  }

  /** Remove everything of the app's (its dynos are stopped): build cache, HOMEs, unpacked slugs. */
  async remove(app: string): Promise<void> {
    await rm(join(this.root, 'apps', app), { recursive: true, force: true });
  }

  /** A platform-owned dir inside the app's fence that the app may read, not change (0750 root:gid). */
  async readable(app: string, user: AppUser | undefined, ...path: string[]): Promise<string> {
    let dir = await this.app(app, user);
    for (const part of path) {
      dir = join(dir, part);
      await mkdir(dir, { mode: 0o750 }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      if (user) await chown(dir, 0, user.gid);
    }
    return dir;
  }

  /** A dir inside the app's fence that belongs to the app (0700 app uid): created, or re-owned. */
  async owned(app: string, user: AppUser | undefined, ...path: string[]): Promise<string> {
    const parent = await this.readable(app, user, ...path.slice(0, -1));
    const dir = join(parent, path[path.length - 1] as string);
    await mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    // lstat: the app may have replaced its own dir by a symlink; chown must never follow it.
    const st = await lstat(dir);
    if (!st.isDirectory())
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DATA_DIR({ dir, detail: 'it is not a directory' });
    if (user && (st.uid !== user.uid || st.gid !== user.gid)) await chown(dir, user.uid, user.gid);
    return dir;
  }
}
