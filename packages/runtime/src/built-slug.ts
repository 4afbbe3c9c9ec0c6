/**
 * Taking a built slug from the build's work dir, which the app's uid owns: the platform (root)
 * reads it, so the app decides what is there when it is read. The worker that packed it runs as
 * the app too, and a buildpack in it can report a slug it wrote itself. So the file is opened
 * without following a link and only as a regular file (a fifo would hang the read), and the
 * slug limit is held here too, by the size and while copying (it may grow as it is read): a
 * sparse 1 TB file costs the app nothing and would fill the platform's disk as a copy.
 */
import { createHash } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { coreErrors, formatBytes, SLUG_MAX_BYTES } from '@slipway/core';
import { runtimeErrors } from './errors.js';

/**
 * Copy the slug at `file` (the app's) to `dest` (the platform's), refusing over `maxBytes`;
 * resolves with the `sha256:` checksum of what was written, hashed on the way (the slug store
 * then need not read the copy again).
 */
export async function takeBuiltSlug(file: string, dest: string, maxBytes = SLUG_MAX_BYTES): Promise<string> {
  const tooLarge = (size: number) =>
    coreErrors.SLIPWAY_ERR_SLUG_TOO_LARGE({ size: formatBytes(size), limit: formatBytes(maxBytes) });
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile())
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_BUILD_WORKER({
        detail: 'the slug it wrote is not a regular file',
      });
    if (st.size > maxBytes) throw tooLarge(st.size);
    let read = 0;
    const hash = createHash('sha256');
    const bounded = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        read += chunk.length;
        if (read > maxBytes) return cb(tooLarge(read));
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    await pipeline(
      fh.createReadStream({ autoClose: false }),
      bounded,
      createWriteStream(dest, { mode: 0o600 }),
    ).catch(async (e) => {
      await rm(dest, { force: true });
      throw e;
    });
    return `sha256:${hash.digest('hex')}`;
  } finally {
    await fh.close();
  }
}
