/**
 * Safe extraction of user archives (tar, tar.gz): nothing may land outside the target dir.
 * Entries with `..`, absolute paths, device files, or symlinks/hardlinks that resolve outside
 * the root are refused with a coded error, and the whole extraction is abandoned.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import { defineErrors } from './errors.js';

/** Longest entry name accepted: Linux's PATH_MAX. */
const MAX_ENTRY_NAME_BYTES = 4096;

/** Errors of archive handling. */
export const archiveErrors = defineErrors({
  SLIPWAY_ERR_ARCHIVE_UNSAFE: {
    message: 'archive entry "{entry}" is refused: {detail}',
    hint: 'Create the archive from inside the app directory (tar -czf app.tgz -C app .) without absolute paths or links leaving it.',
    status: 400,
  },
  SLIPWAY_ERR_ARCHIVE_INVALID: {
    message: 'the archive cannot be read: {detail}',
    hint: 'Send a tar or tar.gz of the app directory.',
    status: 400,
  },
  SLIPWAY_ERR_ARCHIVE_TOO_LARGE: {
    message: 'the archive unpacks to more than {limit}',
    hint: 'Leave build output and dependencies (node_modules, target, .venv) out of the upload.',
    status: 413,
  },
});

function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Check one entry; returns a reason when it would escape `root`. */
export function unsafeEntryReason(
  root: string,
  entry: { path: string; type: string; linkpath?: string },
): string | undefined {
  const name = entry.path;
  if (path.isAbsolute(name) || /^[a-zA-Z]:/.test(name)) return 'absolute paths are not allowed';
  if (name.split(/[\\/]/).includes('..')) return '".." is not allowed in paths';
  const target = path.resolve(root, name);
  if (!inside(root, target)) return 'it resolves outside the app directory';
  if (['CharacterDevice', 'BlockDevice', 'FIFO'].includes(entry.type))
    return `${entry.type} entries are not allowed`;
  if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
    const link = entry.linkpath ?? '';
    if (path.isAbsolute(link)) return `it links to the absolute path ${link}`;
    const base = entry.type === 'SymbolicLink' ? path.dirname(target) : root;
    if (!inside(root, path.resolve(base, link))) return `it links outside the app directory (${link})`;
  }
  return undefined;
}

/**
 * Most bytes an archive may unpack to when the caller names no limit: the slug's hard limit
 * (Heroku 2026: 1 GB), since a source bigger than that could never make a slug.
 */
export const DEFAULT_MAX_UNPACKED_BYTES = 1 << 30;

/** Most entries an archive may hold (a million empty files exhaust inodes, not bytes). */
export const MAX_ARCHIVE_ENTRIES = 1_000_000;

/** The tar parser (or unpacker) as this file feeds it. */
type TarSink = tar.Parser;

/**
 * Feed `file` to a tar parser with back-pressure and a bounded footprint. node-tar inflates
 * synchronously: a 1 MB gzip written at once comes out as one gigabyte-sized buffer (a 1.1 MB
 * upload that unpacked to 1.1 GB took the platform to 1.26 GB RSS). So gzip is inflated here
 * by Node's streaming zlib, 16 kB at a time, and the parser only ever sees plain tar chunks.
 */
async function feed(file: string, sink: TarSink, done: 'end' | 'close'): Promise<void> {
  const head = Buffer.alloc(2);
  const fd = await open(file, 'r');
  try {
    await fd.read(head, 0, 2, 0);
  } finally {
    await fd.close();
  }
  const gzipped = head[0] === 0x1f && head[1] === 0x8b;
  const finished = new Promise<void>((resolve, reject) => {
    sink.once(done, () => resolve());
    sink.once('error', reject);
  });
  const into = new Writable({
    write(chunk: Buffer, _enc, cb) {
      try {
        if (sink.write(chunk)) cb();
        else sink.once('drain', () => cb());
      } catch (e) {
        cb(e as Error); // a garbled header throws from write()
      }
    },
    final(cb) {
      try {
        sink.end();
      } catch (e) {
        cb(e as Error);
        return;
      }
      finished.then(() => cb(), cb);
    },
  });
  const source = createReadStream(file, { highWaterMark: 64 * 1024 });
  await Promise.all([gzipped ? pipeline(source, createGunzip(), into) : pipeline(source, into), finished]);
}

/**
 * Extract `file` (tar or tar.gz) into `dest`, refusing unsafe entries and archives that unpack
 * to more than `maxBytes` (default `DEFAULT_MAX_UNPACKED_BYTES`). Both passes stream: memory
 * stays bounded whatever the archive holds. Every failure is a coded 4xx error.
 */
export async function extractArchive(
  file: string,
  dest: string,
  opts: { maxBytes?: number } = {},
): Promise<void> {
  await mkdir(dest, { recursive: true });
  const root = path.resolve(dest);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_UNPACKED_BYTES;
  // First pass: validate everything before writing anything, so a bad archive leaves nothing.
  let total = 0;
  let entries = 0;
  let refused: Error | undefined;
  const links = new Set<string>();
  const parser = new tar.Parser({
    strict: true,
    onReadEntry: (e) => {
      e.resume();
      if (refused) return;
      // PATH_MAX first: the checks below walk a name directory by directory, and one name of
      // 60 000 levels held the event loop for half a minute.
      if (Buffer.byteLength(e.path) > MAX_ENTRY_NAME_BYTES) {
        refused = archiveErrors.SLIPWAY_ERR_ARCHIVE_UNSAFE({
          entry: `${e.path.slice(0, 80)}…`,
          detail: `its name is longer than ${MAX_ENTRY_NAME_BYTES} bytes`,
        });
        parser.abort(refused);
        return;
      }
      const why =
        unsafeEntryReason(root, { path: e.path, type: e.type, linkpath: e.linkpath }) ??
        throughLink(e.path, links);
      if (why) refused = archiveErrors.SLIPWAY_ERR_ARCHIVE_UNSAFE({ entry: e.path, detail: why });
      if (e.type === 'SymbolicLink') links.add(normalEntry(e.path));
      total += e.size ?? 0;
      if (total > maxBytes)
        refused = archiveErrors.SLIPWAY_ERR_ARCHIVE_TOO_LARGE({ limit: `${maxBytes} bytes` });
      if (++entries > MAX_ARCHIVE_ENTRIES)
        refused = archiveErrors.SLIPWAY_ERR_ARCHIVE_TOO_LARGE({ limit: `${MAX_ARCHIVE_ENTRIES} entries` });
      // Nothing more to learn: stop reading (and inflating) the rest.
      if (refused) parser.abort(refused);
    },
  });
  try {
    await feed(file, parser, 'end');
  } catch (e) {
    if (refused) throw refused;
    throw archiveErrors.SLIPWAY_ERR_ARCHIVE_INVALID({ detail: (e as Error).message }, { cause: e });
  }
  if (refused) throw refused;
  const unpack = new tar.Unpack({ cwd: root, strict: true, preservePaths: false, preserveOwner: false });
  try {
    await feed(file, unpack, 'close');
  } catch (e) {
    // node-tar's own checks (e.g. a path through a link made by an earlier entry) are refusals
    // too, not platform errors.
    throw archiveErrors.SLIPWAY_ERR_ARCHIVE_UNSAFE(
      { entry: String((e as { path?: string }).path ?? '?'), detail: (e as Error).message },
      { cause: e },
    );
  }
}

/** An entry path as a key: no leading `./`, no trailing or doubled slashes. */
function normalEntry(p: string): string {
  return path.posix
    .normalize(p.replace(/\\/g, '/'))
    .replace(/^\.\/+/, '')
    .replace(/\/+$/, '');
}

/**
 * A path that goes through a symbolic link of the same archive (`l -> .`, then `l/l2 -> ..`)
 * would be written wherever the links lead, which the lexical checks cannot see.
 */
function throughLink(entry: string, links: ReadonlySet<string>): string | undefined {
  const parts = normalEntry(entry).split('/');
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (links.has(prefix)) return `it goes through the symbolic link ${prefix} of the same archive`;
  }
  return undefined;
}
