/**
 * mariadbd refuses to run as root unless told a user to become. When the provider is root the
 * server gets `--user=<unprivileged>` (it drops privileges itself, so the supervised pid stays
 * the server's) and its directories are owned by that user.
 */
import { chmod, chown, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ProviderLog } from '@slipway/addon-sdk';
import { mariadbErrors } from './errors.js';

/** An OS account from /etc/passwd. */
export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/** Look a user up in /etc/passwd. */
export async function lookupUser(name: string): Promise<OsUser | undefined> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  for (const line of passwd.split('\n')) {
    const [n, , uid, gid] = line.split(':');
    if (n === name && uid && gid) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** Who runs mariadbd: undefined (ourselves) when not root, else `preferred`, then mysql, then nobody. */
export async function resolveRunAs(preferred?: string): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const names = preferred ? [preferred] : ['mysql', 'nobody'];
  for (const n of names) {
    const u = await lookupUser(n);
    if (!u) continue;
    if (u.uid === 0)
      throw mariadbErrors.SLIPWAY_ERR_MARIADB_RUN_AS({ user: n, detail: 'it is root (uid 0)' });
    return u;
  }
  throw mariadbErrors.SLIPWAY_ERR_MARIADB_RUN_AS({ user: names.join(' or '), detail: 'no such user' });
}

/** Give `path` to the server user (no-op when not root). */
export async function giveTo(user: OsUser | undefined, path: string): Promise<void> {
  if (user) await chown(path, user.uid, user.gid);
}

/**
 * Make every ancestor of `dir` traversable by the server user: a data dir under a 0700 mkdtemp
 * dir or /root would stop mariadbd at chdir. Only the search bit (o+x) is added, and logged.
 */
export async function ensureTraversable(
  user: OsUser | undefined,
  dir: string,
  log: ProviderLog,
): Promise<void> {
  if (!user) return;
  const chain: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const p of chain) {
    const st = await stat(p);
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if (st.mode & bit) continue;
    await chmod(p, (st.mode & 0o7777) | 0o001);
    log.warn(`added o+x (search only) to ${p} so that mariadbd, running as ${user.name}, can reach its data`);
  }
}
