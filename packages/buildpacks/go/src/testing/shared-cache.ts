/**
 * Test helper: one cache dir for every Go build of a test run, as one app's builds would share
 * it. The Go build cache in it makes only the first build compile the standard library.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | undefined;

/** The run's shared cache dir, made on first use and removed when the process exits. */
export function sharedCacheDir(): string {
  if (!dir) {
    const made = mkdtempSync(join(tmpdir(), 'slipway-go-test-cache-'));
    dir = made;
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return dir;
}
