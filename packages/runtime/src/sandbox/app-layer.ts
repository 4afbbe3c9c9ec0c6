/**
 * The writable, ephemeral `/app` of a sandboxed dyno: a kernel overlayfs (lower = the app's
 * unpacked slug, shared by its dynos; upper and work = the dyno's own), so a dyno starts as fast
 * as with the shared copy and what it writes lives in its own dir, gone when the dyno ends.
 * The platform (root) mounts it in a private mount namespace made for the dyno just before
 * bwrap starts (see sandbox.ts), so the mount is never visible on the host and disappears with
 * the dyno's last process, even when the platform is killed: nothing to unmount, nothing leaked.
 * Where overlayfs cannot be mounted (not root, a kernel or filesystem that refuses), the dyno
 * gets a full copy of the slug instead.
 */
import { execFile } from 'node:child_process';
import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AppUser } from '../isolation/app-users.js';

const execFileP = promisify(execFile);

/** A dyno's `/app` on the host: a copy, or an overlay to mount (`options` for `mount -o`) at `path`. */
export interface AppLayer {
  /** The tree bound at `/app` in the sandbox (the overlay's mount point, or the copy). */
  path: string;
  /** `mount -t overlay` options, when `path` is to be mounted in the dyno's mount namespace. */
  overlay?: string;
}

/** `mount -o` options of an overlay; lowers first-wins, no upper makes it read-only. */
export function overlayOptions(lowers: string[], upper?: { upper: string; work: string }): string {
  // The option string is comma- and colon-separated: such a path cannot be expressed in it.
  for (const d of [...lowers, upper?.upper, upper?.work])
    if (d && /[,:\\]/.test(d)) throw new Error(`overlay layer path has a , : or \\ in it: ${d}`);
  return `lowerdir=${lowers.join(':')}${upper ? `,upperdir=${upper.upper},workdir=${upper.work}` : ''}`;
}

/** Prepare the dyno's `/app` in `dir`: overlay dirs (the upper owned by the app), else a copy. */
export async function appLayer(
  slug: string,
  dir: string,
  user: AppUser | undefined,
  overlay: boolean,
): Promise<AppLayer> {
  const path = join(dir, 'app');
  await mkdir(path, { recursive: true, mode: 0o755 });
  if (overlay) {
    const upper = join(dir, 'upper');
    const work = join(dir, 'work');
    await mkdir(upper, { mode: 0o755 });
    await mkdir(work, { mode: 0o700 });
    // The upper dir's root is the merged root: owned by the app, /app is the app's to write in.
    if (user) await chown(upper, user.uid, user.gid);
    return { path, overlay: overlayOptions([slug], { upper, work }) };
  }
  await execFileP('cp', ['-a', `${slug}/.`, path]);
  if (user) await execFileP('chown', ['-R', `${user.uid}:${user.gid}`, path]);
  return { path };
}
