/**
 * Shared bits of this package's tests (a .test file so it is never shipped): fixtures and temp
 * dirs. Running a slug like a dyno is the SDK's `r.start('web')` / `r.run('release')`.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Path of fixture `name` in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));
}

/** Path of the repo's example app for `lang`. */
export function exampleApp(lang: string): string {
  return fileURLToPath(new URL(`../../../../examples/apps/${lang}`, import.meta.url));
}

/** A temp dir for one test; remove it with `rm`. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `slipway-${prefix}-`));
}

/** Copy a source tree into a temp dir so a test can change it. */
export async function copyApp(src: string, prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  await cp(src, dir, { recursive: true });
  return dir;
}

/** Remove dirs made by a test, ignoring ones already gone. */
export async function removeAll(...dirs: (string | undefined)[]): Promise<void> {
  await Promise.all(dirs.filter(Boolean).map((d) => rm(d as string, { recursive: true, force: true })));
}
