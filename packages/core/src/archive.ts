/**
 * Safe extraction of user archives (tar, tar.gz): nothing may land outside the target dir.
 * Entries with `..`, absolute paths, device files, or symlinks/hardlinks that resolve outside
 * the root are refused with a coded error, and the whole extraction is abandoned.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';
import { defineErrors } from './errors.js';

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
    message: 'the archive unpacks to more than {limit} bytes',
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

/** Extract `file` (tar or tar.gz) into `dest`, refusing unsafe entries. */
export async function extractArchive(
  file: string,
  dest: string,
  opts: { maxBytes?: number } = {},
): Promise<void> {
  await mkdir(dest, { recursive: true });
  const root = path.resolve(dest);
  // First pass: validate everything before writing anything, so a bad archive leaves nothing.
  let total = 0;
  let refused: Error | undefined;
  try {
    await tar.t({
      file,
      strict: true,
      onentry: (e) => {
        if (refused) return;
        const why = unsafeEntryReason(root, { path: e.path, type: e.type, linkpath: e.linkpath });
        if (why) refused = archiveErrors.SLIPWAY_ERR_ARCHIVE_UNSAFE({ entry: e.path, detail: why });
        total += e.size ?? 0;
        if (opts.maxBytes && total > opts.maxBytes)
          refused = archiveErrors.SLIPWAY_ERR_ARCHIVE_TOO_LARGE({ limit: opts.maxBytes });
      },
    });
  } catch (e) {
    throw archiveErrors.SLIPWAY_ERR_ARCHIVE_INVALID({ detail: (e as Error).message }, { cause: e });
  }
  if (refused) throw refused;
  await tar.x({ file, cwd: root, strict: true, preservePaths: false, noChmod: false, preserveOwner: false });
}
