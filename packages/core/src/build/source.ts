/**
 * Filling the isolated build dir from the app source (a directory or an archive) and applying
 * `.slugignore`. The user's tree is only ever read.
 */
import { cp, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { extractArchive } from '../archive.js';
import { coreErrors } from '../errors.js';

/** Names never copied from a source directory: VCS metadata. */
const SKIP = new Set(['.git', '.hg', '.svn']);

/** Copy or extract `source` into the (existing, empty) `buildDir`. */
export async function fillBuildDir(source: string, buildDir: string): Promise<void> {
  let st: import('node:fs').Stats;
  try {
    st = await stat(source);
  } catch (e) {
    throw coreErrors.SLIPWAY_ERR_BUILD_SOURCE({
      source,
      detail: (e as NodeJS.ErrnoException).code ?? String(e),
    });
  }
  if (st.isDirectory()) {
    await cp(source, buildDir, {
      recursive: true,
      verbatimSymlinks: true,
      preserveTimestamps: true,
      filter: (src) => !SKIP.has(path.basename(src)) || path.resolve(src) === path.resolve(source),
    });
  } else if (/\.(tar|tgz|tar\.gz)$/.test(source)) {
    await extractArchive(source, buildDir);
  } else {
    throw coreErrors.SLIPWAY_ERR_BUILD_SOURCE({
      source,
      detail: 'it is neither a directory nor a .tar/.tgz/.tar.gz archive',
    });
  }
}

/** Turn one `.slugignore` pattern into a matcher over paths relative to the root (`a/b`). */
export function slugignoreMatcher(pattern: string): (rel: string) => boolean {
  let p = pattern.trim();
  const anchored = p.startsWith('/') || p.replace(/\/$/, '').includes('/');
  p = p.replace(/^\//, '').replace(/\/$/, '');
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*' && p[i + 1] === '*') {
      re += '.*';
      i++;
      if (p[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(anchored ? `^${re}$` : `(^|/)${re}$`);
  return (rel) => rx.test(rel);
}

/** Remove what `.slugignore` lists (Heroku removes it before compile). Returns removed paths. */
export async function applySlugignore(buildDir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path.join(buildDir, '.slugignore'), 'utf8');
  } catch {
    return [];
  }
  const matchers = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map(slugignoreMatcher);
  if (!matchers.length) return [];
  const removed: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const ent of await readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      const abs = path.join(dir, ent.name);
      if (matchers.some((m) => m(r))) {
        await rm(abs, { recursive: true, force: true });
        removed.push(r);
      } else if (ent.isDirectory()) await walk(abs, r);
    }
  };
  await walk(buildDir, '');
  return removed;
}
