/**
 * The slug/dyno contract, in one place for every part that runs a slug: the platform's dyno
 * runtimes (local processes, Docker containers) and the SDKs' test harnesses (`startSlug`), so
 * that a slug a buildpack test passes runs the same way on the platform. A dyno sources the
 * slug's `.profile.d/*.sh` (Heroku's order: alphabetical, in the dyno's shell, so exports stick)
 * and then execs its command with `bash -c`, so Procfile lines like `FOO=1 cmd $PORT` work.
 * Also the two host facts these parts share: who an OS account is, and a free TCP port.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** Sources each readable `.profile.d/*.sh` of the working directory (the slug) into the shell. */
export const SOURCE_PROFILE_D =
  'if [ -d .profile.d ]; then for f in .profile.d/*.sh; do [ -r "$f" ] && . "$f"; done; unset f; fi';

/**
 * The dyno launcher, a bash script: `prelude` lines (a runtime's own set-up, run before any of
 * the app's code), then `.profile.d`, then `exec bash -c <command>`. `command` is the shell word
 * holding the command (default `"$1"`: `bash -c LAUNCHER dyno COMMAND`); the command is always an
 * argument, never spliced into the script.
 */
export function dynoLauncher(prelude: readonly string[] = [], command = '"$1"'): string {
  return [...prelude, SOURCE_PROFILE_D, `exec bash -c ${command}`].join('\n');
}

/** An OS account from /etc/passwd. */
export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/** Look an account up in /etc/passwd; undefined when there is none (or no passwd file). */
export async function lookupUser(name: string): Promise<OsUser | undefined> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  for (const line of passwd.split('\n')) {
    const [n, , uid, gid] = line.split(':');
    if (n === name && uid && gid) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** A TCP port free on `host` right now (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
