/**
 * Packing the build dir into a slug: a tar.gz whose root is the app, its sha256 computed as it
 * is written, size-checked against the warn and hard limits.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { coreErrors } from '../errors.js';

/** Human size: `12.3 MB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Pack `buildDir` into `output`. Written to a temp name first so a failure leaves no slug. */
export async function packSlug(
  buildDir: string,
  output: string,
  limits: { maxBytes: number },
): Promise<{ path: string; checksum: string; size: number }> {
  await mkdir(path.dirname(output), { recursive: true });
  const tmp = `${output}.partial-${process.pid}`;
  const hash = createHash('sha256');
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      if (size > limits.maxBytes)
        cb(
          coreErrors.SLIPWAY_ERR_SLUG_TOO_LARGE({
            size: `over ${formatBytes(size)}`,
            limit: formatBytes(limits.maxBytes),
          }),
        );
      else cb(null, chunk);
    },
  });
  try {
    await pipeline(
      tar.c({ gzip: { level: 1 }, cwd: buildDir, portable: true, noMtime: false, follow: false }, ['.']),
      counter,
      createWriteStream(tmp),
    );
    await rename(tmp, output);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return { path: output, checksum: `sha256:${hash.digest('hex')}`, size: (await stat(output)).size };
}
