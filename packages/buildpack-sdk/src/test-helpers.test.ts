/** Shared bits of this package's tests (a .test file so it is never shipped). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Path of fixture `name` in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));
}

/** True while process `pid` runs; a zombie (killed, waiting for its parent to reap it) counts as gone. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Field 3 of /proc/<pid>/stat is the state; the name before it is in parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Resolve after `ms`. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
