/**
 * Test helper: one cache dir for the Rust builds of a test run, as one app's builds would share
 * it, so only the first build compiles the crates.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

let dir: string | undefined;

/** The run's shared cache dir, made on first use and removed when the process exits. */
export function sharedCacheDir(): string {
  if (!dir) {
    const made = mkdtempSync(join(tmpdir(), 'slipway-rust-test-cache-'));
    dir = made;
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return dir;
}

/** Path of a fixture app under test/fixtures (this file is compiled to dist/testing/). */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));
}
