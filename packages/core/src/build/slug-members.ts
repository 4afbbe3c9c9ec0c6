/**
 * Slug packing that reuses the compressed form of runtimes: a gzip file may hold several
 * members one after the other, and a tar stream split at entry boundaries and cut of its
 * end-of-archive blocks concatenates into one archive. So the big subtrees buildpacks put under
 * a top-level dot-dir (Heroku's `.heroku/node`, `.heroku/python-runtime`, `.jdk/usr`) are each
 * packed once into a gzip member kept in the build cache, named by a fingerprint of the subtree
 * (every entry's path, mode, mtime, and a file's size and inode: a hard-linked copy of a cache
 * layer keeps them all, a changed file changes one); the slug is the rest of the build dir packed
 * now, then those members, then the end of the archive. A cached Node.js (80 MB) then costs a
 * file copy of its 30 MB member, not compressing it again. Readers see one tar.gz: gzip,
 * Node's zlib and Docker's engine all read concatenated members.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readlink, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { coreErrors } from '../errors.js';
import { ARCHIVE_END, memberFile, type SharedMember, sharedMemberAt } from './shared-members.js';

/** A subtree smaller than this is packed with the rest: its own member would save nothing. */
export const MEMBER_MIN_BYTES = 4 << 20;

/** GNU tar's options for every part: the same entries, names and owners as one whole pack. */
const TAR_OPTIONS = ['--sort=name', '--format=gnu', '--owner=0', '--group=0', '--numeric-owner', '-b', '1'];

/** A subtree packed as its own member. */
export interface SlugMember {
  /** `./.heroku/node`, as tar names it. */
  name: string;
  fingerprint: string;
  bytes: number;
  /** The platform's shared member this subtree links to (shared-members.ts): appended as is. */
  shared?: SharedMember;
}

/** One entry of a subtree: type (`d`, `f`, `l`, …), mode, size, mtime, inode, path, link target. */
type Entry = [
  type: string,
  mode: string,
  size: number,
  mtime: string,
  ino: string,
  rel: string,
  link: string,
];

/**
 * Every entry under `dir`, from GNU find (one process: a JS walk of npm's 2,000 files costs
 * ten times as much on a loaded machine), or a JS walk where find has no `-printf`.
 */
async function entries(dir: string): Promise<Entry[]> {
  const fromFind = await new Promise<Entry[] | undefined>((resolve) =>
    execFile(
      'find',
      [dir, '-mindepth', '1', '-printf', '%y %m %s %T@ %i\\0%P\\0%l\\0'],
      { maxBuffer: 256 << 20, encoding: 'utf8' },
      (e, out) => {
        if (e) return resolve(undefined);
        const f = out.split('\0');
        const list: Entry[] = [];
        for (let i = 0; i + 2 < f.length; i += 3) {
          const [type = '', mode = '', size = '0', mtime = '', ino = ''] = (f[i] as string).split(' ');
          list.push([type, mode, Number(size), mtime, ino, f[i + 1] as string, f[i + 2] as string]);
        }
        resolve(list);
      },
    ),
  );
  if (fromFind) return fromFind;
  const list: Entry[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const name of await readdir(d)) {
      const full = path.join(d, name);
      const st = await lstat(full);
      const r = rel ? `${rel}/${name}` : name;
      const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : 'o';
      const link = type === 'l' ? await readlink(full) : '';
      list.push([type, (st.mode & 0o7777).toString(8), st.size, String(st.mtimeMs), String(st.ino), r, link]);
      if (type === 'd') await walk(full, r);
    }
  };
  await walk(dir, '');
  return list;
}

/** The entries under `dir` hashed (path, mode, mtime, and a file's size and inode); and their bytes. */
async function fingerprintTree(dir: string): Promise<{ fingerprint: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const list = await entries(dir);
  list.sort((x, y) => (x[5] < y[5] ? -1 : x[5] > y[5] ? 1 : 0));
  for (const [type, mode, size, mtime, ino, rel, link] of list) {
    // A directory is made anew by each copy (`cp -al` links files, not dirs): not its inode.
    const dirEntry = type === 'd';
    hash.update(
      `${rel}\0${type}\0${mode}\0${dirEntry ? 0 : size}\0${mtime}\0${dirEntry ? '' : ino}\0${link}\n`,
    );
    bytes += size;
  }
  return { fingerprint: hash.digest('hex').slice(0, 32), bytes };
}

/**
 * The subtrees of `buildDir` worth a member of their own: big dirs inside top-level dot-dirs, and
 * symlinks there into the platform's shared `store` (packed after the others, so a slug ends
 * with them: the Docker runtime takes a shared member off the end as its own image layer).
 */
export async function slugMembers(buildDir: string, store?: string): Promise<SlugMember[]> {
  const out: SlugMember[] = [];
  const shared: SlugMember[] = [];
  for (const top of await readdir(buildDir, { withFileTypes: true })) {
    if (!top.isDirectory() || !top.name.startsWith('.') || top.name === '.git') continue;
    for (const sub of await readdir(path.join(buildDir, top.name), { withFileTypes: true })) {
      const rel = `${top.name}/${sub.name}`;
      const m = sub.isSymbolicLink() && store ? await sharedMemberAt(store, buildDir, rel) : undefined;
      if (m) shared.push({ name: m.name, fingerprint: m.checksum, bytes: m.size, shared: m });
      if (!sub.isDirectory()) continue;
      const { fingerprint, bytes } = await fingerprintTree(path.join(buildDir, rel));
      if (bytes >= MEMBER_MIN_BYTES) out.push({ name: `./${rel}`, fingerprint, bytes });
    }
  }
  const byName = (a: SlugMember, b: SlugMember) => a.name.localeCompare(b.name);
  return [...out.sort(byName), ...shared.sort(byName)];
}

/** Drops the last 1024 bytes of a tar stream (its end-of-archive blocks), checking they are zeros. */
function withoutEnd(): Transform {
  let held = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const all = Buffer.concat([held, chunk]);
      held = all.subarray(Math.max(0, all.length - 1024));
      cb(null, all.subarray(0, all.length - held.length));
    },
    flush(cb) {
      if (held.length !== 1024 || held.some((b) => b !== 0))
        cb(coreErrors.SLIPWAY_ERR_SLUG_PACK({ detail: 'tar did not end its archive with two zero blocks' }));
      else cb();
    },
  });
}

/** GNU tar over `names` in `buildDir` (excluding `exclude`), as gzip without the archive's end. */
export function tarPart(
  buildDir: string,
  names: string[],
  exclude: string[],
): { stream: Readable; done: Promise<void> } {
  const args = ['-c', '-f', '-', '-C', buildDir, ...TAR_OPTIONS, '--anchored', '--no-wildcards'];
  for (const e of exclude) args.push(`--exclude=${e}`);
  const child = spawn('tar', [...args, '--', ...names], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            coreErrors.SLIPWAY_ERR_SLUG_PACK({
              detail: stderr.trim().split('\n').slice(-3).join(' / ') || `tar exited with status ${code}`,
            }),
          ),
    );
  });
  const gz = createGzip({ level: 1 });
  // Errors surface through `done` and the consumer's pipeline.
  pipeline(child.stdout, withoutEnd(), gz).catch((e) => gz.destroy(e));
  return { stream: gz, done };
}

/** How a membered slug was made: per member whether its packed form was reused, and phase times. */
export interface MemberedSlugStats {
  /** `shared`: the platform's member (shared-members.ts), read from its store. */
  members: { name: string; bytes: number; reused: boolean; shared?: boolean }[];
  /** Milliseconds: packing the rest of the build dir, and writing the members. */
  restMs: number;
  membersMs: number;
}

/** The cached member of `m` in `dir`, packed now when missing (written aside, then renamed). */
async function cachedMember(
  buildDir: string,
  dir: string,
  m: SlugMember,
): Promise<{ file: string; reused: boolean }> {
  const file = path.join(dir, `${m.fingerprint}.gz`);
  if (
    await lstat(file).then(
      (s) => s.isFile(),
      () => false,
    )
  )
    return { file, reused: true };
  const tmp = `${file}.partial-${process.pid}`;
  const part = tarPart(buildDir, [m.name], []);
  try {
    await Promise.all([pipeline(part.stream, createWriteStream(tmp)), part.done]);
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
  return { file, reused: false };
}

/**
 * The slug's bytes, in order: the build dir without `members` packed now, each member's cached
 * gzip (packed on a miss), the archive's end. Cached members this slug does not use are removed.
 */
export async function* memberedSlug(
  buildDir: string,
  members: SlugMember[],
  cacheDir: string,
  stats?: MemberedSlugStats,
): AsyncGenerator<Buffer> {
  await mkdir(cacheDir, { recursive: true });
  const t0 = performance.now();
  const rest = tarPart(
    buildDir,
    ['.'],
    members.map((m) => m.name),
  );
  for await (const chunk of rest.stream) yield chunk as Buffer;
  await rest.done;
  const t1 = performance.now();
  const used = new Set<string>();
  for (const m of members) {
    const { file, reused } = m.shared
      ? { file: memberFile(m.shared), reused: true }
      : await cachedMember(buildDir, cacheDir, m);
    if (!m.shared) used.add(path.basename(file));
    stats?.members.push({ name: m.name, bytes: m.bytes, reused, ...(m.shared ? { shared: true } : {}) });
    // 1 MiB reads: a JDK's 150 MB member in 150 chunks through the hash and the writer, not 2,400.
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
  }
  if (stats) {
    stats.restMs = Math.round(t1 - t0);
    stats.membersMs = Math.round(performance.now() - t1);
  }
  yield ARCHIVE_END;
  for (const f of await readdir(cacheDir))
    if (!used.has(f)) await rm(path.join(cacheDir, f), { force: true });
}
