/**
 * The default SlugStore: content-addressed tar.gz files in `<dataDir>/slugs`. The checksum is
 * the identity, so storing the same slug twice keeps one file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SlugRef, SlugStore } from '@slipway/core';

/** Filesystem slug store. */
export class FsSlugStore implements SlugStore {
  /** Store slugs under `dir` (created on first put). */
  constructor(readonly dir: string) {}

  async put(file: string, checksum?: string): Promise<SlugRef> {
    // The platform's alone: a slug holds an app's code and whatever secrets it built in.
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const known = /^sha256:([0-9a-f]{64})$/.exec(checksum ?? '')?.[1];
    const hex = known ?? (await sha256Of(file));
    const dest = join(this.dir, `${hex}.tgz`);
    const { size } = await stat(file);
    try {
      await rename(file, dest);
    } catch (e) {
      // Another device (tmp on tmpfs): copy instead of moving.
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      await copyFile(file, dest);
    }
    return { checksum: `sha256:${hex}`, size };
  }

  open(ref: SlugRef): Readable {
    return createReadStream(this.path(ref));
  }

  path(ref: SlugRef): string {
    const hex = ref.checksum.replace(/^sha256:/, '');
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a slug checksum: ${ref.checksum}`);
    return join(this.dir, `${hex}.tgz`);
  }

  async remove(ref: SlugRef): Promise<void> {
    await rm(this.path(ref), { force: true });
  }
}

/** The hex sha256 of the file at `file`. */
async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}
