/**
 * Choosing and fetching a language runtime per app, as Heroku's buildpacks do: the newest
 * version that the app's constraint allows among those a source publishes, a one-line summary
 * of what is available for the error when none does, and a download that is verified before
 * anything uses it.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import semver from 'semver';
import { buildpackErrors } from './errors.js';
import { toSemverRange } from './version.js';

/**
 * The newest release in `versions` that `constraint` (npm or PEP 440 spelling: `14.x`, `3.11`,
 * `>=1.22`) allows, pre-releases excluded; undefined when none does. A constraint that is not a
 * range at all is a coded error.
 */
export function newestSatisfying(
  tool: string,
  constraint: string,
  versions: readonly string[],
): string | undefined {
  const wanted = constraint.trim().replace(/^v(?=\d)/, '');
  const range = semver.validRange(toSemverRange(wanted), { loose: true });
  if (range === null) throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_VERSION_RANGE({ tool, constraint: wanted });
  let best: string | undefined;
  for (const v of versions) {
    if (!semver.valid(v) || semver.prerelease(v) || !semver.satisfies(v, range)) continue;
    if (best === undefined || semver.gt(v, best)) best = v;
  }
  return best;
}

/**
 * The newest release of each major (`by: 'major'`) or minor line, newest line first, at most
 * `limit` of them: what an error lists as available (`24.22.3, 22.23.5, 20.20.2, …`).
 */
export function newestPerLine(
  versions: readonly string[],
  by: 'major' | 'minor' = 'major',
  limit = 12,
): string[] {
  const lines = new Map<string, string>();
  for (const v of versions) {
    if (!semver.valid(v) || semver.prerelease(v)) continue;
    const key = by === 'major' ? `${semver.major(v)}` : `${semver.major(v)}.${semver.minor(v)}`;
    const seen = lines.get(key);
    if (seen === undefined || semver.gt(v, seen)) lines.set(key, v);
  }
  return [...lines.values()].sort(semver.rcompare).slice(0, limit);
}

/** What a download must hash to: an SRI string (`sha512-…`, as npm's `dist.integrity`) or sha256 hex. */
export type Checksum = { integrity: string } | { sha256: string } | { none: string };

/**
 * `read(response)` of `fetch(url)` when it answers with a 2xx status. A failed request, another
 * status or a failing `read` (a body cut short, bad JSON) throws SLIPWAY_ERR_BUILDPACK_RUNTIME_DOWNLOAD
 * naming `what` (`version: 'list'` for a list of releases).
 */
export async function fetchChecked<T>(
  what: { tool: string; version: string },
  url: string,
  init: RequestInit,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  const fail = (detail: string, cause?: unknown) =>
    buildpackErrors.SLIPWAY_ERR_BUILDPACK_RUNTIME_DOWNLOAD({ ...what, url, detail }, { cause });
  try {
    const res = await fetch(url, init);
    if (!res.ok || !res.body) throw fail(`HTTP ${res.status}`);
    return await read(res);
  } catch (e) {
    throw (e as { code?: string }).code === 'SLIPWAY_ERR_BUILDPACK_RUNTIME_DOWNLOAD'
      ? e
      : fail((e as Error).message, e);
  }
}

/**
 * Download `url` to `file` and check it against `checksum` while it streams; a mismatch or a
 * failed request removes the file and throws SLIPWAY_ERR_BUILDPACK_RUNTIME_DOWNLOAD. `none`
 * (with the reason) is for sources that publish no checksum beside the file.
 */
export async function downloadVerified(
  what: { tool: string; version: string },
  url: string,
  file: string,
  checksum: Checksum,
  signal?: AbortSignal,
): Promise<void> {
  const [algorithm, expected] =
    'integrity' in checksum
      ? (checksum.integrity.split('-', 2) as [string, string])
      : 'sha256' in checksum
        ? ['sha256', checksum.sha256.toLowerCase()]
        : ['sha256', undefined];
  const hash = createHash(algorithm);
  await mkdir(dirname(file), { recursive: true });
  const tap = new Transform({
    transform(chunk, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await fetchChecked(what, url, signal ? { signal } : {}, (res) =>
    pipeline(
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
      tap,
      createWriteStream(file),
    ),
  ).catch(async (e) => {
    await rm(file, { force: true });
    throw e;
  });
  if (expected === undefined) return;
  const got = hash.digest('integrity' in checksum ? 'base64' : 'hex');
  if (got !== expected) {
    await rm(file, { force: true });
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RUNTIME_DOWNLOAD({
      ...what,
      url,
      detail: `checksum mismatch (${algorithm} ${got}, expected ${expected})`,
    });
  }
}

/** Options of `cachedList`. */
export interface CachedListOptions<T> {
  /**
   * The source (its URL): a list kept from another one (the app moved to a mirror) is fetched
   * anew, since its entries (download URLs) belong to that source.
   */
  from?: string;
  /**
   * Whether a kept list answers the question at hand (a release in the app's range): one that
   * does not is fetched anew before it is believed, so a release published since is found.
   */
  enough?: (kept: T) => boolean;
}

/**
 * `fetcher()`'s answer, kept in `cacheDir/<name>.json` and reused while younger than `ttlMs`: a
 * source's list of releases is fetched at most that often, so a warm build asks no registry.
 */
export async function cachedList<T>(
  cacheDir: string,
  name: string,
  ttlMs: number,
  fetcher: () => Promise<T>,
  opts: CachedListOptions<T> = {},
): Promise<T> {
  const file = join(cacheDir, `${name}.json`);
  const from = opts.from ?? '';
  let saved: { at: number; from?: string; value: T } | undefined;
  try {
    saved = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    // None kept yet, or unreadable: fetch.
  }
  if (
    saved &&
    Date.now() - saved.at < ttlMs &&
    (saved.from ?? '') === from &&
    (opts.enough?.(saved.value) ?? true)
  )
    return saved.value;
  const value = await fetcher();
  await mkdir(cacheDir, { recursive: true });
  await writeFile(file, JSON.stringify({ at: Date.now(), from, value }));
  return value;
}
