/**
 * Heroku's source endpoint: `POST /sources` answers `{ source_blob: { put_url, get_url } }`,
 * URLs this platform issues, bound to a random token and valid for an hour (Heroku's are
 * pre-signed the same way). The client uploads the tar.gz with `PUT put_url` (the URL is the
 * credential: no API token, as with S3), then builds with `POST /apps/:app/builds`
 * `{ "source_blob": { "url": get_url, "version": … } }`. Only URLs issued here are accepted:
 * the platform never fetches a URL it is given.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { receiveUpload } from '../deploy-service.js';
import { runtimeErrors } from '../errors.js';
import { DEFAULT_MAX_UPLOAD_BYTES, type RouteRegistrar, sendJson } from './http-util.js';
import type { ApiContext } from './server.js';

/** How long the URLs of a source stay valid (Heroku: one hour). */
export const SOURCE_TTL_MS = 60 * 60_000;
const BLOB_PATH = /^\/sources\/([0-9a-f-]{36})\/([0-9a-f]{64})$/;

/** POST /apps/:app/builds with JSON. */
export const sourceBuildSchema = {
  type: 'object',
  required: ['source_blob'],
  additionalProperties: false,
  properties: {
    source_blob: {
      type: 'object',
      required: ['url'],
      additionalProperties: false,
      properties: {
        url: { type: 'string', minLength: 1, maxLength: 2000 },
        version: { type: ['string', 'null'], maxLength: 200 },
        version_description: { type: ['string', 'null'], maxLength: 2000 },
        checksum: { type: ['string', 'null'], maxLength: 200 },
      },
    },
  },
} as const;

interface Source {
  token: Buffer;
  file: string;
  expires: number;
  uploaded: boolean;
}

/** Sources issued by this platform process (their blobs live under `<data>/tmp/sources`). */
export class SourceStore {
  private readonly sources = new Map<string, Source>();
  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** True for the blob URLs' paths: they carry their own credential, not the API token. */
  static isBlobPath(path: string): boolean {
    return BLOB_PATH.test(path);
  }

  /** A new source: its id and token (the path is `/sources/<id>/<token>`). */
  async issue(): Promise<string> {
    await this.purge();
    // 0700 down from `<data>/tmp`, which this may be the first to create: app uids pass through
    // the data dir (0711), and would list and read every upload in a 0755 tmp.
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const id = randomUUID();
    const token = randomBytes(32);
    this.sources.set(id, {
      token,
      file: join(this.dir, `${id}.tgz`),
      expires: this.now() + SOURCE_TTL_MS,
      uploaded: false,
    });
    return `/sources/${id}/${token.toString('hex')}`;
  }

  /** The source a blob path names, if its token matches and it has not expired. */
  find(path: string): Source | undefined {
    const m = BLOB_PATH.exec(path);
    const s = m && this.sources.get(m[1] as string);
    if (!s || s.expires < this.now()) return undefined;
    return timingSafeEqual(s.token, Buffer.from(m[2] as string, 'hex')) ? s : undefined;
  }

  /** The uploaded blob a build's `source_blob.url` names, or a coded 4xx saying why not. */
  async blobFor(url: string): Promise<string> {
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      path = '';
    }
    const s = this.find(path);
    if (!s)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_SOURCE_URL({
        url: url.replace(/[0-9a-f]{64}/, '…'),
        detail: BLOB_PATH.test(path)
          ? 'it has expired or its token is wrong'
          : 'it is not a source URL this platform issued, and the platform fetches no other URL',
      });
    if (!s.uploaded)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_SOURCE_URL({
        url: url.replace(/[0-9a-f]{64}/, '…'),
        detail: 'nothing was uploaded to its put_url yet',
      });
    return s.file;
  }

  /** Forget expired sources and remove their blobs. */
  private async purge(): Promise<void> {
    for (const [id, s] of this.sources)
      if (s.expires < this.now()) {
        this.sources.delete(id);
        await rm(s.file, { force: true });
      }
  }
}

/** Register `POST /sources` and the blob URLs. */
export function registerSourceRoutes(on: RouteRegistrar, ctx: ApiContext, sources: SourceStore): void {
  on('POST', '/sources', async (req, res) => {
    const path = await sources.issue();
    // The URL the client reached us by: the blob URLs must work from where it is.
    const base = `http://${req.headers.host ?? 'localhost'}`;
    sendJson(res, 201, { source_blob: { put_url: `${base}${path}`, get_url: `${base}${path}` } });
  });
  const blob = (p: Record<string, string>) => {
    const s = sources.find(`/sources/${p.id}/${p.token}`);
    if (!s)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
        what: 'source',
        hint: 'Source URLs last an hour; create another with POST /sources.',
      });
    return s;
  };
  on('PUT', '/sources/:id/:token', async (req, res, p) => {
    const s = blob(p);
    const file = await receiveUpload(req, ctx.dataDir, ctx.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES);
    await rename(file, s.file);
    s.uploaded = true;
    res.writeHead(200).end();
  });
  on('GET', '/sources/:id/:token', async (_q, res, p) => {
    const s = blob(p);
    if (!s.uploaded)
      throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({ what: 'source blob', hint: 'PUT it first.' });
    const { size } = await stat(s.file);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    createReadStream(s.file).pipe(res);
  });
}
