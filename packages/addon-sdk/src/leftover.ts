/**
 * Backing servers left running by a platform that died without stopping them (SIGKILL) still
 * hold their data dir and the port every app's URL carries. A provider calls `stopLeftover`
 * before starting its server: the process named in the pid file is stopped, if it still runs
 * and really is that server (a reused pid is left alone).
 */
import { readFile, rm } from 'node:fs/promises';

/** How to recognise and stop a leftover server. */
export interface StopLeftoverOptions {
  /** The server's pid file; its first line is the pid. */
  pidFile: string;
  /** Strings its /proc cmdline must all contain (e.g. the binary and its data dir or port). */
  match: readonly string[];
  /** Name used in the log line, e.g. `postmaster`. */
  name: string;
  /** First signal; default SIGTERM (PostgreSQL's fast shutdown is SIGINT). */
  signal?: NodeJS.Signals;
  /** Time to exit before SIGKILL; default 10 s. */
  graceMs?: number;
  /** Remove the pid file afterwards (for servers that do not remove their own). */
  removePidFile?: boolean;
  warn(message: string): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stop the leftover server named in the pid file; returns its pid, or undefined when none ran. */
export async function stopLeftover(opts: StopLeftoverOptions): Promise<number | undefined> {
  const text = await readFile(opts.pidFile, 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]?.trim());
  const forget = () => (opts.removePidFile ? rm(opts.pidFile, { force: true }) : Promise.resolve());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!opts.match.every((m) => cmd.includes(m))) {
    await forget();
    return undefined;
  }
  opts.warn(`stopping a ${opts.name} (pid ${pid}) left over from a previous run`);
  try {
    process.kill(pid, opts.signal ?? 'SIGTERM');
  } catch {
    return undefined;
  }
  for (let waited = 0; waited < (opts.graceMs ?? 10_000) && alive(pid); waited += 100) await sleep(100);
  if (alive(pid)) {
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
  }
  await forget();
  return pid;
}
