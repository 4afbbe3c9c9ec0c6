/**
 * PostgreSQL refuses to run as root. When the platform runs as root, the server programs run as
 * an unprivileged user through `setpriv` (util-linux; it execs in place, so the supervised pid is
 * the postmaster's and signals reach it), and the cluster directory is owned by that user.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ProviderLog } from '@slipway/addon-sdk';
import { postgresErrors } from './errors.js';

const run = promisify(execFile);

/** Who runs the server programs. */
export interface RunAs {
  /** Undefined when the platform is not root: programs run as the platform's own user. */
  user?: { name: string; uid: number; gid: number };
  /** Wrap a command so it runs as that user. */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
}

/** Look a user up in /etc/passwd. */
export async function lookupUser(
  name: string,
): Promise<{ name: string; uid: number; gid: number } | undefined> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  for (const line of passwd.split('\n')) {
    const [n, , uid, gid] = line.split(':');
    if (n === name && uid && gid) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** Decide who runs PostgreSQL: ourselves when not root, else `preferred` (default postgres, then nobody). */
export async function resolveRunAs(preferred?: string): Promise<RunAs> {
  if (process.getuid?.() !== 0) return { wrap: (command, args) => ({ command, args: [...args] }) };
  const names = preferred ? [preferred] : ['postgres', 'nobody'];
  let user: { name: string; uid: number; gid: number } | undefined;
  for (const n of names) {
    user = await lookupUser(n);
    if (user) break;
  }
  if (!user)
    throw postgresErrors.SLIPWAY_ERR_POSTGRES_RUN_AS({ user: names.join(' or '), detail: 'no such user' });
  if (user.uid === 0)
    throw postgresErrors.SLIPWAY_ERR_POSTGRES_RUN_AS({ user: user.name, detail: 'it is root (uid 0)' });
  try {
    await run('setpriv', ['--version']);
  } catch (e) {
    throw postgresErrors.SLIPWAY_ERR_POSTGRES_RUN_AS({
      user: user.name,
      detail: `setpriv (util-linux) is not available: ${(e as Error).message}`,
    });
  }
  const u = user;
  return {
    user: u,
    wrap: (command, args) => ({
      command: 'setpriv',
      args: [`--reuid=${u.uid}`, `--regid=${u.gid}`, '--clear-groups', '--', command, ...args],
    }),
  };
}

/** Give `path` to the server user (no-op when not root). */
export async function giveTo(runAs: RunAs, path: string): Promise<void> {
  if (runAs.user) await chown(path, runAs.user.uid, runAs.user.gid);
}

/**
 * Make every ancestor of `dir` traversable by the server user. A data dir under /root or a
 * mkdtemp directory (0700) would otherwise stop the postmaster at chdir. Only the search bit
 * (o+x) is added, never read, and each change is logged.
 */
export async function ensureTraversable(runAs: RunAs, dir: string, log: ProviderLog): Promise<void> {
  const u = runAs.user;
  if (!u) return;
  let d = resolve(dir);
  const chain: string[] = [];
  while (true) {
    chain.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const p of chain.reverse()) {
    const st = await stat(p);
    const can =
      st.uid === u.uid
        ? (st.mode & 0o100) !== 0
        : st.gid === u.gid
          ? (st.mode & 0o010) !== 0
          : (st.mode & 0o001) !== 0;
    if (can) continue;
    await chmod(p, (st.mode & 0o7777) | 0o001);
    log.warn(
      `added o+x (search only) to ${p} so that PostgreSQL, running as ${u.name}, can reach its cluster`,
    );
  }
}
