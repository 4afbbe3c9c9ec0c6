/**
 * Test support for the dyno tests: real slugs packed with `tar` from the fixture app, stored in
 * the runtime's own FsSlugStore, a data dir the app uids can reach, and small
 * HTTP and polling helpers. Not published (the package excludes `*.test.*`).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogLine, SlugRef } from '@slipway/core';
import { c as tarCreate } from 'tar';
import { FsSlugStore } from '../state/fs-slug-store.js';

/** The fixture app every dyno test runs (one slug, a process type per behaviour). */
export const FIXTURE_APP = fileURLToPath(new URL('../../test/fixtures/dyno-app', import.meta.url));

/** Process types of the fixture app. */
export const FIXTURE_TYPES = {
  web: 'node server.js',
  nobind: 'node nobind.js',
  stubborn: 'node stubborn.js',
  crash: 'node crash.js',
  hog: 'node hog.js',
  worker: 'node worker.js',
} as const;

/** A temp data dir (world-traversable, so its runtime dir is `<dir>/run`, where app uids reach their slugs). */
export async function tempDataDir(
  prefix = 'slipway-dynos-',
): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Pack `appDir` as a slug (tar.gz rooted at the app) and put it in a fresh FsSlugStore under `dataDir`. */
export async function packSlug(
  dataDir: string,
  appDir = FIXTURE_APP,
): Promise<{ store: FsSlugStore; slug: SlugRef }> {
  const store = new FsSlugStore(join(dataDir, 'slugs'));
  const file = join(dataDir, `slug-${Date.now()}.tgz`);
  await tarCreate({ gzip: true, cwd: appDir, file, portable: true }, ['.']);
  return { store, slug: await store.put(file) };
}

/** GET http://127.0.0.1:port/path (Host header optional); resolves with status and body. */
export function get(
  port: number,
  path = '/',
  host?: string,
  timeoutMs = 10_000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: false,
        timeout: timeoutMs,
        ...(host ? { headers: { host } } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Poll `fn` until it returns a truthy value (returned) or `timeoutMs` passes (throws with `what`). */
export async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A LogSink that keeps every line, for assertions. */
export class MemoryLog {
  readonly lines: LogLine[] = [];
  write(line: LogLine): void {
    this.lines.push(line);
  }
  /** Messages of an app (optionally one source/dyno), in order. */
  messages(app: string, source?: string, dyno?: string): string[] {
    return this.lines
      .filter((l) => l.app === app && (!source || l.source === source) && (!dyno || l.dyno === dyno))
      .map((l) => l.message);
  }
}

/** True when the platform runs as root (dynos then run as their app's own uid). */
export const isRoot = process.getuid?.() === 0;

/** What the platform logged for `dyno` of `app` from its SIGTERM on. */
export function linesFromSigterm(log: MemoryLog, app: string, dyno: string): string[] {
  const msgs = log.messages(app, 'slipway', dyno);
  return msgs.slice(msgs.indexOf('Stopping all processes with SIGTERM'));
}

/** Heroku's lines for a dyno SIGKILLed once its SIGTERM grace of `seconds` passed (R12). */
export function r12Lines(seconds: string): string[] {
  return [
    'Stopping all processes with SIGTERM',
    `Error R12 (Exit timeout) -> At least one process failed to exit within ${seconds} seconds of SIGTERM`,
    'Stopping remaining processes with SIGKILL',
    'Process exited with status 137',
  ];
}
