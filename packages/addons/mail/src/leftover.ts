/**
 * An SMTP daemon left running by a platform that was SIGKILLed (its supervisor never got to stop
 * it) still holds the port every app's SMTP_URL carries. Like the Postgres provider does with
 * postmaster.pid, the daemon records its pid and the next start stops that leftover first.
 */
import { join } from 'node:path';
import { stopLeftover } from '@slipway/addon-sdk';

/** Where the running daemon writes its pid (`<provider data dir>/smtp.pid`). */
export function daemonPidFile(dataDir: string): string {
  return join(dataDir, 'smtp.pid');
}

/**
 * Stop the daemon named in the pid file if it still runs (SIGTERM, then SIGKILL after
 * `graceMs`); returns its pid, or undefined when there was none. A pid reused by an unrelated
 * process is left alone: its command line must name smtp-daemon.
 */
export function stopLeftoverDaemon(
  dataDir: string,
  warn: (m: string) => void,
  graceMs = 5000,
): Promise<number | undefined> {
  return stopLeftover({
    pidFile: daemonPidFile(dataDir),
    match: ['smtp-daemon'],
    name: 'SMTP daemon',
    graceMs,
    removePidFile: true,
    warn,
  });
}
