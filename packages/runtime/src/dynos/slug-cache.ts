/**
 * Unpacked slugs, one copy per slug checksum, shared read-only by every dyno of every release
 * that runs it. Why not one copy per dyno: unpacking is the slow part of a dyno start (it
 * scales with the slug size times the dyno count: see bench/runtime/dynos.mjs), while a shared
 * copy costs one unpack per release; each dyno gets its own writable HOME and TMPDIR instead.
 * The copy is owned by the platform user and readable by all, not writable, so an unprivileged
 * dyno user can run it but not change it (what one dyno writes can never leak into another);
 * one cache per app, inside that app's fence (isolation/app-dirs.ts), keeps other apps out.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import {
  type Clock,
  type SlugRef,
  type SlugStore,
  sharedRuntimeStore,
  systemClock,
  unpackWithSharedTail,
} from '@slipway/core';
import { dynoErrors } from './errors.js';

const execFileP = promisify(execFile);

/** Directory name of a slug: the hex of its checksum. */
export function slugDirName(ref: SlugRef): string {
  return ref.checksum.replace(/^sha256:/, '').replace(/[^0-9a-zA-Z]/g, '_');
}

/** Unpacks slugs on first use and hands out the path of the shared copy. */
export class SlugCache {
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly removals = new Map<string, Promise<void>>();
  private readonly users = new Map<string, number>();
  private readonly idleTimers = new Map<string, { cancel(): void }>();

  constructor(
    /** Where unpacked slugs live, e.g. `<dataDir>/slugs`. */
    readonly dir: string,
    private readonly store: SlugStore,
    /**
     * Who the unpacked copy belongs to: the platform (default, read-only to dynos), or the app
     * (a sandboxed dyno's overlay layer, which dynos write through to their own upper dir).
     */
    private readonly owner?: () => Promise<{ uid: number; gid: number } | undefined>,
    /** The platform's clock (the kernel's `Clock`), which times the idle copies. */
    private readonly clock: Clock = systemClock,
    /** The platform's shared member store (shared-runtimes.ts). */
    private readonly memberStore = sharedRuntimeStore(),
  ) {}

  /** The path of the unpacked slug, unpacking it first when needed (once, even if asked concurrently). */
  async ensure(ref: SlugRef): Promise<string> {
    const name = slugDirName(ref);
    await this.removals.get(name);
    let p = this.inflight.get(name);
    if (!p) {
      p = this.unpack(ref, name);
      this.inflight.set(name, p);
      p.catch(() => this.inflight.delete(name));
    }
    return p;
  }

  /** A dyno starts using the slug: it must not be removed until `release`. */
  acquire(ref: SlugRef): void {
    const name = slugDirName(ref);
    this.idleTimers.get(name)?.cancel();
    this.idleTimers.delete(name);
    this.users.set(name, (this.users.get(name) ?? 0) + 1);
  }

  /**
   * A dyno stopped using the slug. Once no dyno has used it for `idleMs`, the unpacked copy is
   * deleted (a later dyno unpacks it again): disk use follows what runs, not every deploy ever.
   */
  release(ref: SlugRef, idleMs: number): void {
    const name = slugDirName(ref);
    const n = (this.users.get(name) ?? 1) - 1;
    if (n > 0) {
      this.users.set(name, n);
      return;
    }
    this.users.delete(name);
    this.idleTimers.get(name)?.cancel();
    const t = this.clock.setTimeout(() => {
      this.idleTimers.delete(name);
      if (!this.users.has(name)) void this.remove(ref);
    }, idleMs);
    this.idleTimers.set(name, t);
  }

  /** Delete an unpacked slug (a later `ensure` waits for the deletion, then unpacks again). */
  remove(ref: SlugRef): Promise<void> {
    const name = slugDirName(ref);
    const unpacked = this.inflight.get(name) ?? Promise.resolve('');
    this.inflight.delete(name);
    const p = unpacked
      .catch(() => '')
      .then(() => rm(join(this.dir, name), { recursive: true, force: true }))
      .finally(() => {
        if (this.removals.get(name) === p) this.removals.delete(name);
      });
    this.removals.set(name, p);
    return p;
  }

  /**
   * After a platform restart: forget half-finished unpacks, and treat every unpacked slug as
   * unused (deleted after `idleMs` unless a dyno takes it again).
   */
  async adoptExisting(idleMs: number): Promise<void> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of entries) {
      if (name.startsWith('.')) await rm(join(this.dir, name), { recursive: true, force: true });
      else if (!this.users.has(name) && !this.idleTimers.has(name)) {
        this.users.set(name, 1);
        this.release({ checksum: `sha256:${name}`, size: 0 }, idleMs);
      }
    }
  }

  /** Stop the idle timers (the runtime is closing). */
  close(): void {
    for (const t of this.idleTimers.values()) t.cancel();
    this.idleTimers.clear();
  }

  /** World-readable, never world-writable: the dyno user runs it, cannot change it; the owner's. */
  private async settle(dir: string): Promise<void> {
    await execFileP('chmod', ['-R', 'a+rX,go-w', dir]);
    const owner = await this.owner?.();
    if (owner) await execFileP('chown', ['-R', `${owner.uid}:${owner.gid}`, dir]);
  }

  private async unpack(ref: SlugRef, name: string): Promise<string> {
    const target = join(this.dir, name);
    if (await exists(target)) return target;
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const tmp = join(this.dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await mkdir(tmp, { mode: 0o755 });
      const local = this.store.path?.(ref);
      let file = local;
      if (!file) {
        file = `${tmp}.tgz`;
        await pipeline(this.store.open(ref), createWriteStream(file));
      }
      try {
        // A slug ending with the platform's shared runtime (the Node.js of every Node app): only
        // the rest is unpacked, the runtime hard-linked from the store after the chown (its files
        // stay root's, read-only to every app; a dyno's overlay copies a file up to write it).
        const linked =
          local &&
          (await unpackWithSharedTail(this.memberStore, local, tmp, extractSlug, (d) => this.settle(d)));
        if (!linked) {
          await rm(tmp, { recursive: true, force: true });
          await mkdir(tmp, { mode: 0o755 });
          await extractSlug(file, tmp);
          await this.settle(tmp);
        }
      } finally {
        if (!local) await rm(file, { force: true });
      }
      await rename(tmp, target).catch(async (e) => {
        // Another process unpacked the same slug first: theirs is as good as ours.
        if (!(await exists(target))) throw e;
        await rm(tmp, { recursive: true, force: true });
      });
      return target;
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw dynoErrors.SLIPWAY_ERR_DYNO_SLUG(
        { checksum: ref.checksum, detail: e instanceof Error ? e.message : String(e) },
        { cause: e },
      );
    }
  }
}

/**
 * Unpack with GNU tar: it is on every dyno host and 3–5× faster than node-tar on a slug of a
 * thousand files (`bench/runtime/release.mjs`), and a dyno waits for this. Without `-P` GNU tar
 * refuses members and hard links with `..`, strips leading `/`, and creates a symlink that
 * points outside only after everything else, so nothing is written through it; any refusal
 * fails the unpack. `--no-same-owner`: the copy belongs to the platform user whatever the slug
 * says.
 */
async function extractSlug(file: string, into: string): Promise<void> {
  try {
    await execFileP('tar', ['-xzf', file, '-C', into, '--no-same-owner', '--warning=no-unknown-keyword']);
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(stderr ? `tar: ${stderr.split('\n').slice(-3).join(' / ')}` : (e as Error).message);
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
