/**
 * Runtime members shared by every app of a machine: a store dir, written by the platform only
 * (root-owned and not writable by apps; a sandboxed build sees it read-only), each entry holding
 * a runtime tree (`tree/.heroku/node/…`), its packed gzip member (`member.gz`, the same bytes
 * slug-members.ts would pack from that tree) and `member.json`. A build links such a runtime into
 * its build dir as a symlink into the store (`.heroku/node → <store>/<id>/tree/.heroku/node`),
 * and packing the slug appends the store's member in its place: an app's first build costs
 * reading a file, not copying and compressing 117 MB, and no app can change what another's slug
 * carries. The Docker runtime finds the same member at the end of a slug (`splitSharedMember`)
 * and unpacks it once per machine as an image layer of its own.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { tarPart } from './slug-members.js';

/** The gzip member that ends every membered slug: tar's two zero blocks. */
export const ARCHIVE_END: Buffer = gzipSync(Buffer.alloc(1024), { level: 1 });

/** An entry of the store, as its `member.json` describes it. */
export interface SharedMember {
  /** `./.heroku/node`, as tar names it in the slug. */
  name: string;
  /** `sha256:<hex>` of `member.gz`: its identity (an image layer is named by it). */
  checksum: string;
  /** Bytes of `member.gz`. */
  size: number;
  /** The store entry's dir (`member.gz` and `tree/` are in it). */
  dir: string;
  /** Free-form facts the maker recorded (`{ node: 'v20.20.2', npm: '10.8.2' }`). */
  about?: Record<string, string>;
}

const META = 'member.json';

/** The packed member file of an entry. */
export const memberFile = (m: SharedMember): string => path.join(m.dir, 'member.gz');

/**
 * A pass-through that hashes (sha256) and counts what flows through it; `check` may refuse a
 * chunk by the size reached (a slug's limit).
 */
export function hashingCounter(check?: (size: number) => Error | undefined) {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(check?.(size) ?? null, chunk);
    },
  });
  return { stream, size: () => size, checksum: () => `sha256:${hash.digest('hex')}` };
}

/** Read an entry's description; undefined when it is not a complete entry. */
async function readEntry(dir: string): Promise<SharedMember | undefined> {
  const meta = await readFile(path.join(dir, META), 'utf8').then(
    (t) => JSON.parse(t) as Omit<SharedMember, 'dir'>,
    () => undefined,
  );
  if (!meta || typeof meta.name !== 'string' || typeof meta.checksum !== 'string') return undefined;
  return { ...meta, dir };
}

/**
 * The shared member that `rel` (e.g. `.heroku/node`) of `buildDir` stands for: a symlink whose
 * target is exactly `<store>/<entry>/tree/<rel>` of a complete entry. Anything else is not one.
 */
export async function sharedMemberAt(
  store: string,
  buildDir: string,
  rel: string,
): Promise<SharedMember | undefined> {
  const st = await lstat(path.join(buildDir, rel)).catch(() => undefined);
  if (!st?.isSymbolicLink()) return undefined;
  const target = await realpath(path.join(buildDir, rel)).catch(() => undefined);
  const root = await realpath(store).catch(() => undefined);
  if (!target || !root) return undefined;
  const inStore = path.relative(root, target).split(path.sep);
  // <entry>/tree/<rel…>
  if (inStore.length < 3 || inStore[1] !== 'tree' || inStore.slice(2).join('/') !== rel) return undefined;
  const entry = await readEntry(path.join(root, inStore[0] as string));
  return entry?.name === `./${rel}` ? entry : undefined;
}

/** The complete entries of `store`. */
export async function sharedMembers(store: string): Promise<SharedMember[]> {
  const names = await readdir(store).catch(() => [] as string[]);
  const out: SharedMember[] = [];
  for (const n of names.filter((x) => !x.startsWith('.'))) {
    const e = await readEntry(path.join(store, n));
    if (e) out.push(e);
  }
  return out;
}

/**
 * Pack `<dir>/tree/<rel>` into `<dir>/member.gz` and describe it in `member.json` (written last:
 * an entry without it is incomplete). The platform calls this on an entry it made, before the
 * entry is renamed into the store.
 */
export async function packSharedMember(
  dir: string,
  rel: string,
  about?: Record<string, string>,
): Promise<SharedMember> {
  const name = `./${rel}`;
  const counter = hashingCounter();
  const part = tarPart(path.join(dir, 'tree'), [name], []);
  await Promise.all([
    pipeline(part.stream, counter.stream, createWriteStream(path.join(dir, 'member.gz'))),
    part.done,
  ]);
  const meta = { name, checksum: counter.checksum(), size: counter.size(), ...(about ? { about } : {}) };
  await writeFile(path.join(dir, META), `${JSON.stringify(meta, null, 2)}\n`);
  return { ...meta, dir };
}

/** Move a finished entry dir into `store` as `id` (a concurrent maker's copy wins, ours goes). */
export async function publishSharedMember(tmpDir: string, store: string, id: string): Promise<string> {
  await mkdir(store, { recursive: true });
  const dest = path.join(store, id);
  await rename(tmpDir, dest).catch(async () => {
    await rm(tmpDir, { recursive: true, force: true });
  });
  return dest;
}

/** Bytes compared at each end of a member: its gzip header and its trailer (CRC-32 and size). */
const SAMPLE = 64 << 10;

/**
 * Whether the slug at `file` ends with `m`'s member then the archive's end, as a slug packed with
 * it does; then the slug's first bytes (`restBytes`) are the rest of the app, a complete archive
 * once `ARCHIVE_END` follows. Reads the member's first and last 64 KB only (the gzip trailer holds
 * the CRC-32 and length of all it unpacks to), not its tens of MB: a slug the app crafted to end
 * almost like the member gets the platform's own runtime, in its own image only.
 */
export async function splitSharedMember(
  file: string,
  slugSize: number,
  m: SharedMember,
): Promise<{ restBytes: number } | undefined> {
  const restBytes = slugSize - m.size - ARCHIVE_END.length;
  if (restBytes <= 0) return undefined;
  const n = Math.min(SAMPLE, m.size);
  const [slug, member] = await Promise.all([open(file, 'r'), open(memberFile(m), 'r')]);
  try {
    const read = async (fh: typeof slug, at: number, len: number) => {
      const b = Buffer.alloc(len);
      const { bytesRead } = await fh.read(b, 0, len, at);
      return b.subarray(0, bytesRead);
    };
    if (!(await read(slug, slugSize - ARCHIVE_END.length, ARCHIVE_END.length)).equals(ARCHIVE_END))
      return undefined;
    for (const at of [0, m.size - n])
      if (!(await read(slug, restBytes + at, n)).equals(await read(member, at, n))) return undefined;
    return { restBytes };
  } finally {
    await Promise.all([slug.close(), member.close()]);
  }
}

/** The member of `store` that the slug at `file` ends with, and where the rest of it ends. */
export async function sharedTail(
  store: string,
  file: string,
  slugSize: number,
): Promise<{ member: SharedMember; restBytes: number } | undefined> {
  for (const member of await sharedMembers(store)) {
    const split = await splitSharedMember(file, slugSize, member).catch(() => undefined);
    if (split) return { member, restBytes: split.restBytes };
  }
  return undefined;
}

/** The slug at `file` without its shared member: its first `restBytes`, then the archive's end. */
export async function* slugRest(file: string, restBytes: number): AsyncGenerator<Buffer> {
  yield* createReadStream(file, { start: 0, end: restBytes - 1, highWaterMark: 1 << 20 });
  yield ARCHIVE_END;
}

/**
 * Unpack the slug at `file` into `into` when it ends with a member of `store`: `extract` unpacks
 * the rest (an archive file), `settle` runs on it (chmod, chown), and only then is the member's
 * tree hard-linked in from the store, so its files stay the platform's. False when the slug has
 * no such member, or the link failed (another filesystem): the caller unpacks the whole slug
 * into a fresh dir.
 */
export async function unpackWithSharedTail(
  store: string,
  file: string,
  into: string,
  extract: (archive: string, into: string) => Promise<void>,
  settle: (dir: string) => Promise<void> = async () => {},
): Promise<boolean> {
  const tail = await sharedTail(store, file, (await stat(file)).size);
  if (!tail) return false;
  const rest = `${into}.rest.tgz`;
  try {
    await pipeline(Readable.from(slugRest(file, tail.restBytes)), createWriteStream(rest));
    await extract(rest, into);
  } finally {
    await rm(rest, { force: true });
  }
  await settle(into);
  const rel = tail.member.name.slice(2);
  // The rest is the app's, and a build can report a slug it wrote itself: a `.heroku` or
  // `.heroku/node` it brings (a link to another app's dir, or the platform's) would have the
  // links below made there, by root. Only into real dirs, where the member's path is free.
  if (!(await freeRealPath(into, rel))) return false;
  return new Promise((resolve) =>
    execFile('cp', ['-al', path.join(tail.member.dir, 'tree', rel), path.join(into, rel)], (e) =>
      resolve(!e),
    ),
  );
}

/** Whether every parent of `rel` under `dir` is a real directory (not a link) and `rel` is free. */
async function freeRealPath(dir: string, rel: string): Promise<boolean> {
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const st = await lstat(path.join(dir, ...parts.slice(0, i))).catch(() => undefined);
    if (i === parts.length) return st === undefined;
    if (!st?.isDirectory()) return false;
  }
  return false;
}
