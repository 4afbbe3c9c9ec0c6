/**
 * Digest-keyed cache layers (Cloud Native Buildpacks semantics): a layer's contents survive to
 * the next build only while its digest (e.g. runtime version + lockfile hash) is unchanged.
 * Anything else empties it, which is what prevents the classic stale-cache bug.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildpackErrors } from './errors.js';
import type { CacheLayer } from './types.js';

const LAYER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

interface LayerRecord {
  digest: string;
  metadata: Record<string, unknown>;
}

/** Open layer `name` in `cacheDir`: kept when `digest` matches the saved one, emptied otherwise. */
export async function openCacheLayer(cacheDir: string, name: string, digest: string): Promise<CacheLayer> {
  if (!LAYER_NAME.test(name))
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_NAME({
      what: 'cache layer name',
      name,
      detail: 'it must be a plain file name',
    });
  const dir = join(cacheDir, name);
  const recordFile = join(cacheDir, `${name}.layer.json`);
  let saved: LayerRecord | undefined;
  try {
    saved = JSON.parse(await readFile(recordFile, 'utf8')) as LayerRecord;
  } catch {
    saved = undefined;
  }
  const hit = saved !== undefined && saved.digest === digest;
  if (!hit) {
    // Drop the record first: a build that dies while refilling must not leave a false hit.
    await rm(recordFile, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  return {
    dir,
    hit,
    metadata: hit ? (saved?.metadata ?? {}) : {},
    ...(!hit && saved && typeof saved.digest === 'string'
      ? { previous: { digest: saved.digest, metadata: saved.metadata ?? {} } }
      : {}),
    async save(metadata = {}) {
      const record: LayerRecord = { digest, metadata };
      await writeFile(recordFile, `${JSON.stringify(record, null, 2)}\n`);
    },
  };
}
