/**
 * The writable, ephemeral `/app` of a sandboxed dyno: a kernel overlayfs that the platform
 * mounts as root (lower = the app's unpacked slug, shared by its dynos; upper and work = the
 * dyno's own), so a dyno starts as fast as with the shared copy and what it writes lives in its
 * own dir, gone when the dyno ends. Where overlayfs cannot be mounted (not root, a filesystem
 * that refuses to be a lower or upper layer), the dyno gets a full copy of the slug instead.
 */
import { execFile } from 'node:child_process';
import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AppUser } from '../isolation/app-users.js';

const execFileP = promisify(execFile);

/** A dyno's `/app` on the host, and how to take it down before its dir is removed. */
export interface AppLayer {
  /** The merged (or copied) tree, bound at `/app` in the sandbox. */
  path: string;
  kind: 'overlay' | 'copy';
  /** Unmount (overlay); a no-op for a copy. Never throws. */
  unmount(): Promise<void>;
}

/** Mount an overlay of `lower` at `<dir>/app` (upper and work in `dir`); false when the kernel refuses. */
export async function mountOverlay(
  lower: string,
  dir: string,
  user: AppUser | undefined,
): Promise<string | false> {
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  const merged = join(dir, 'app');
  await Promise.all([upper, work, merged].map((d) => mkdir(d, { recursive: true, mode: 0o755 })));
  // The upper dir's root is the merged root: owned by the app, /app is the app's to write in.
  if (user) await chown(upper, user.uid, user.gid);
  try {
    await execFileP('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
      merged,
    ]);
    return merged;
  } catch {
    return false;
  }
}

/** Unmount a mount point, lazily (a process of the ended dyno may still hold it for a moment). */
export async function unmount(path: string): Promise<void> {
  await execFileP('umount', ['-l', path]).catch(() => {});
}

/** The dyno's `/app`: an overlay when `overlay` is allowed and works, else a copy owned by the app. */
export async function appLayer(
  slug: string,
  dir: string,
  user: AppUser | undefined,
  overlay: boolean,
): Promise<AppLayer> {
  const merged = overlay ? await mountOverlay(slug, join(dir, 'layer'), user) : false;
  if (merged) return { path: merged, kind: 'overlay', unmount: () => unmount(merged) };
  const copy = join(dir, 'app');
  await mkdir(copy, { recursive: true, mode: 0o755 });
  await execFileP('cp', ['-a', `${slug}/.`, copy]);
  if (user) await execFileP('chown', ['-R', `${user.uid}:${user.gid}`, copy]);
  return { path: copy, kind: 'copy', unmount: async () => {} };
}
