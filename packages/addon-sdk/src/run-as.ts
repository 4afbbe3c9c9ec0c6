/**
 * Running a backing server as an unprivileged user when the platform is root. PostgreSQL and
 * MariaDB refuse to run as root, and no server should: `unprivileged()` picks the account, wraps
 * a command in `setpriv` (util-linux; it execs in place, so a supervised pid is the server's own
 * and signals reach it) and prepares directories the server must own and reach. When the
 * platform is not root, everything runs as the platform's user and every step is a no-op.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { lookupUser, type OsUser } from '@slipway/core';
import { addonErrors } from './errors.js';
import type { ProviderLog } from './redact.js';

const execFileP = promisify(execFile);

/** Options of `unprivileged`. */
export interface UnprivilegedOptions {
  /** Accounts to try in order when root (default `['nobody']`), e.g. `['postgres', 'nobody']`. */
  preferred?: readonly string[];
  /** The one account to use when root (a provider's `runAs` option); overrides `preferred`. */
  user?: string | undefined;
  /** What runs, for messages: `PostgreSQL`, `mariadbd`. */
  purpose?: string;
  /** Where `prepareDir` says which permissions it changed (the provider's `ctx.log`). */
  log?: ProviderLog;
}

/** Who runs a backing server, and the means to run it so. */
export interface Unprivileged {
  /** The account chosen when the platform is root; undefined otherwise (the platform's own user). */
  readonly user: OsUser | undefined;
  /** uid the server runs with (the platform's own when not root). */
  readonly uid: number;
  /** gid the server runs with. */
  readonly gid: number;
  /** `command args…` as that user: `setpriv --reuid … -- command args…` when root, unchanged otherwise. */
  wrap(command: string, args?: readonly string[]): { command: string; args: string[] };
  /** Give `path` (not recursive) to that user; no-op when not root. */
  own(path: string): Promise<void>;
  /**
   * Create `dir` (and parents), give it to that user, and add the search bit (o+x, never read) to
   * each ancestor it could not traverse, logging each change: a data dir under /root or a 0700
   * mkdtemp dir would otherwise stop the server at chdir.
   */
  prepareDir(dir: string, opts?: { mode?: number }): Promise<void>;
}

async function hasSetpriv(): Promise<string | undefined> {
  try {
    await execFileP('setpriv', ['--version']);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Decide who runs a backing server: the platform's own user when it is not root, else
 * `opts.user` or the first of `opts.preferred` that exists. Rejects with
 * SLIPWAY_ERR_ADDON_RUN_AS when root and no such account exists (or it is uid 0).
 */
export async function unprivileged(opts: UnprivilegedOptions = {}): Promise<Unprivileged> {
  const purpose = opts.purpose ?? 'the server';
  const selfUid = process.getuid?.() ?? 0;
  const selfGid = process.getgid?.() ?? 0;
  if (selfUid !== 0)
    return {
      user: undefined,
      uid: selfUid,
      gid: selfGid,
      wrap: (command, args = []) => ({ command, args: [...args] }),
      own: async () => {},
      prepareDir: async (dir, o = {}) => {
        await mkdir(dir, { recursive: true, ...(o.mode !== undefined ? { mode: o.mode } : {}) });
      },
    };
  const names = opts.user ? [opts.user] : [...(opts.preferred ?? ['nobody'])];
  let user: OsUser | undefined;
  for (const n of names) {
    user = await lookupUser(n);
    if (user) break;
  }
  if (!user)
    throw addonErrors.SLIPWAY_ERR_ADDON_RUN_AS({ purpose, user: names.join(' or '), detail: 'no such user' });
  if (user.uid === 0)
    throw addonErrors.SLIPWAY_ERR_ADDON_RUN_AS({ purpose, user: user.name, detail: 'it is root (uid 0)' });
  const u = user;
  // Checked once, reported when a command is wrapped: a server that drops privileges itself
  // (mariadbd --user) needs the account and directories, not setpriv.
  const setprivProblem = await hasSetpriv();
  const prepareDir = async (dir: string, o: { mode?: number } = {}) => {
    await mkdir(dir, { recursive: true, ...(o.mode !== undefined ? { mode: o.mode } : {}) });
    await chown(dir, u.uid, u.gid);
    const chain: string[] = [];
    for (let d = resolve(dir); ; d = dirname(d)) {
      chain.unshift(d);
      if (dirname(d) === d) break;
    }
    for (const p of chain) {
      const st = await stat(p);
      const bit = st.uid === u.uid ? 0o100 : st.gid === u.gid ? 0o010 : 0o001;
      if (st.mode & bit) continue;
      await chmod(p, (st.mode & 0o7777) | 0o001);
      opts.log?.warn(
        `added o+x (search only) to ${p} so that ${purpose}, running as ${u.name}, can reach ${dir}`,
      );
    }
  };
  return {
    user: u,
    uid: u.uid,
    gid: u.gid,
    wrap(command, args = []) {
      if (setprivProblem)
        throw addonErrors.SLIPWAY_ERR_ADDON_RUN_AS({
          purpose,
          user: u.name,
          detail: `setpriv (util-linux) is not available: ${setprivProblem}`,
        });
      return {
        command: 'setpriv',
        args: [`--reuid=${u.uid}`, `--regid=${u.gid}`, '--clear-groups', '--', command, ...args],
      };
    },
    own: (path) => chown(path, u.uid, u.gid),
    prepareDir,
  };
}
