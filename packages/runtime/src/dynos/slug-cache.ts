/**
 * Unpacked slugs, one copy per slug checksum, shared read-only by every dyno of every release
 * that runs it. Why not one copy per dyno: unpacking is the slow part of a dyno start (it
 * scales with the slug size times the dyno count: see bench/runtime/dynos.mjs), while a shared
 * copy costs one unpack per release; each dyno gets its own writable HOME and TMPDIR instead.
 * The copy is owned by the platform user and made world-readable, so an unprivileged dyno user
 * can run it but not change it (what one dyno writes can never leak into another).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { SlugRef, SlugStore } from '@slipway/core';
import { x as untar } from 'tar';
import { dynoErrors } from './errors.js';

const execFileP = promisify(execFile);

/** Directory name of a slug: the hex of its checksum. */
export function slugDirName(ref: SlugRef): string {
  return ref.checksum.replace(/^sha256:/, '').replace(/[^0-9a-zA-Z]/g, '_');
}

/** Unpacks slugs on first use and hands out the path of the shared copy. */
export class SlugCache {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    /** Where unpacked slugs live, e.g. `<dataDir>/slugs`. */
    readonly dir: string,
    private readonly store: SlugStore,
  ) {}

  /** The path of the unpacked slug, unpacking it first when needed (once, even if asked concurrently). */
  ensure(ref: SlugRef): Promise<string> {
    const name = slugDirName(ref);
    let p = this.inflight.get(name);
    if (!p) {
      p = this.unpack(ref, name);
      this.inflight.set(name, p);
      p.catch(() => this.inflight.delete(name));
    }
    return p;
  }

  /** Delete an unpacked slug no release runs any more. */
  async remove(ref: SlugRef): Promise<void> {
    const name = slugDirName(ref);
    this.inflight.delete(name);
    await rm(join(this.dir, name), { recursive: true, force: true });
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
        // preservePaths stays false: absolute paths and `..` are stripped by tar itself.
        await untar({ file, cwd: tmp, strict: true, preserveOwner: false });
      } finally {
        if (!local) await rm(file, { force: true });
      }
      // World-readable, never world-writable: the dyno user runs it, cannot change it.
      await execFileP('chmod', ['-R', 'a+rX,go-w', tmp]);
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

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
