/** Shared bits of this package's tests (a .test file so it is never shipped). */
import { fileURLToPath } from 'node:url';

/** Path of fixture `name` in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));
}

/** True while process `pid` exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolve after `ms`. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
