/** Read-only helpers over the app source that every buildpack context carries. */
import { access, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { buildpackErrors } from './errors.js';
import type { SourceHelpers } from './types.js';

/** Resolve `rel` under `root`, refusing paths that climb out of it. */
function inside(root: string, rel: string): string {
  const full = join(root, rel);
  const back = relative(root, full);
  if (back.startsWith('..') || isAbsolute(back))
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_NAME({
      what: 'path',
      name: rel,
      detail: 'it leaves the build dir',
    });
  return full;
}

/** Build the `SourceHelpers` of a context over `buildDir`. */
export function sourceHelpers(buildDir: string): SourceHelpers {
  const readText = async (rel: string) => {
    try {
      return await readFile(inside(buildDir, rel), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR')
        return undefined;
      throw e;
    }
  };
  return {
    buildDir,
    async exists(rel) {
      try {
        await access(inside(buildDir, rel));
        return true;
      } catch {
        return false;
      }
    },
    readText,
    async readJson<T>(rel: string) {
      const text = await readText(rel);
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text) as T;
      } catch (e) {
        throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_JSON(
          { file: rel, detail: (e as Error).message },
          { cause: e },
        );
      }
    },
  };
}
