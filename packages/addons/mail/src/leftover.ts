/**
 * An SMTP daemon left running by a platform that was SIGKILLed (its supervisor never got to stop
 * it) still holds the port every app's SMTP_URL carries. Like the Postgres provider does with
 * postmaster.pid, the daemon records its pid and the next start stops that leftover first.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the running daemon writes its pid (`<provider data dir>/smtp.pid`). */
export function daemonPidFile(dataDir: string): string {
  return join(dataDir, 'smtp.pid');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stop the daemon named in the pid file if it still runs (SIGTERM, then SIGKILL after
 * `graceMs`); returns its pid, or undefined when there was none. A pid reused by an unrelated
 * process is left alone: its command line must name smtp-daemon.js.
 */
export async function stopLeftoverDaemon(
  dataDir: string,
  warn: (m: string) => void,
  graceMs = 5000,
): Promise<number | undefined> {
  const file = daemonPidFile(dataDir);
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmd.includes('smtp-daemon')) {
    await rm(file, { force: true });
    return undefined;
  }
  warn(`stopping an SMTP daemon (pid ${pid}) left over from a previous run`);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return undefined;
  }
  for (let waited = 0; waited < graceMs && alive(pid); waited += 100)
    await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  }
  await rm(file, { force: true });
  return pid;
}
