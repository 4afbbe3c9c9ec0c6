/**
 * Run a built slug the way a dyno does, for buildpack tests: unpacked into a fresh directory
 * (never the build dir, so a slug that only works where it was built fails), `.profile.d/*.sh`
 * sourced by bash, then the process command run by `bash -c` with `PORT` and `DYNO`, as an unprivileged
 * user when the tests run as root (dynos are not root), in its own process group so `stop()`
 * reaches everything it forked.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  dynoLauncher,
  freePort,
  lookupUser,
  type OsUser,
  sharedRuntimeStore,
  unpackWithSharedTail,
} from '@slipway/core';
import { buildpackErrors } from './errors.js';

const execFileP = promisify(execFile);

/** Options of `startSlug` / `runSlug` (and of `start` / `run` on a `testBuildpack` result). */
export interface StartSlugOptions {
  /** Config vars of the dyno, over the base environment (PATH, HOME, PORT, DYNO). */
  env?: Record<string, string>;
  /** Port to give the process in `PORT` (default: a free one). */
  port?: number;
  /** Value of `DYNO` (default `web.1`, or `<type>.1` when started by process type). */
  dyno?: string;
  /** Wait until the process listens on `PORT` (default true); false for workers. */
  bind?: boolean;
  /** How long it may take to listen (or, for `runSlug`, to finish); default 30 s. */
  timeoutMs?: number;
  /**
   * Who runs it when the tests run as root: a user name (default `nobody`), or `false` to stay
   * root. Not root: always the current user.
   */
  user?: string | false;
  /** Also pass the test process's own environment (under the dyno's); default false, as on a dyno. */
  inheritEnv?: boolean;
  /** Grace between SIGTERM and SIGKILL on `stop()`; default 3 s. */
  stopGraceMs?: number;
  /** Keep the unpacked directory after `stop()` (default: removed). */
  keepDir?: boolean;
}

/** How a slug process ended. */
export interface SlugExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A slug process started by `startSlug`. */
export interface SlugProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The unpacked slug: the process's working directory (the dyno's `/app`). */
  readonly dir: string;
  readonly pid: number;
  /** The user it runs as (`undefined`: the current user). */
  readonly user: { name: string; uid: number; gid: number } | undefined;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Settles once it exits. */
  readonly exited: Promise<SlugExit>;
  /** `fetch` a path of it, e.g. `await p.fetch('/health')`. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** SIGTERM its process group, SIGKILL after the grace; then remove `dir` (unless `keepDir`). */
  stop(): Promise<SlugExit>;
}

const warned = new Set<string>();

/** The user to run as: undefined unless root and the wanted user exists. */
async function runUser(want: string | false | undefined): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0 || want === false) return undefined;
  const name = want ?? 'nobody';
  const u = await lookupUser(name);
  if (!u && !warned.has(name)) {
    warned.add(name);
    console.warn(`    ⚠ startSlug: no user "${name}"; the slug runs as root, unlike on a dyno`);
  }
  return u;
}

/** Add the search bit for others to `dir`'s ancestors that lack it, so `user` can reach `dir`. */
async function makeReachable(dir: string): Promise<void> {
  for (let d = dirname(resolve(dir)); ; d = dirname(d)) {
    const st = await stat(d);
    if (!(st.mode & 0o001)) await chmod(d, (st.mode & 0o7777) | 0o001);
    if (dirname(d) === d) break;
  }
}

/**
 * Unpack `slug` (tar.gz) into a fresh temp dir and return it; with `owner`, the tree is given to
 * that user (a dyno may write to its app dir) and its ancestors made traversable.
 */
export async function unpackSlug(slug: string, owner?: { uid: number; gid: number }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-slug-run-'));
  const extract = async (archive: string, into: string) => {
    await execFileP('tar', ['-xzf', archive, '-C', into]);
  };
  const settle = async (into: string) => {
    if (!owner) return;
    await execFileP('chown', ['-R', `${owner.uid}:${owner.gid}`, into]);
    await makeReachable(into);
  };
  try {
    // The platform's shared runtime at the slug's end is linked from its store, as dynos get it.
    if (!(await unpackWithSharedTail(sharedRuntimeStore(), slug, dir, extract, settle))) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { mode: 0o700 });
      await extract(slug, dir);
      await settle(dir);
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return dir;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      s.destroy();
      res(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1000, () => done(false));
  });
}

/** The reference runtime's launcher (core's dyno contract): profile scripts, then `bash -c`. */
const PROFILE_THEN_EXEC = dynoLauncher();

function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, sig);
  } catch {
    // Already gone.
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Unpack `slug` somewhere new and start `command` (a Procfile command; `$PORT` expands) in it
 * like a dyno. Resolves once it listens on `PORT` (unless `bind: false`); rejects with its output
 * when it exits first or does not listen in time, having cleaned up.
 */
export async function startSlug(
  slug: string,
  command: string,
  opts: StartSlugOptions = {},
): Promise<SlugProcess> {
  const user = await runUser(opts.user);
  const dir = await unpackSlug(slug, user);
  const port = opts.port ?? (await freePort());
  let out = '';
  const child = spawn('bash', ['-c', PROFILE_THEN_EXEC, 'dyno', command], {
    cwd: dir,
    env: {
      ...(opts.inheritEnv ? process.env : {}),
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: dir,
      ...opts.env,
      PORT: String(port),
      DYNO: opts.dyno ?? 'web.1',
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  for (const s of [child.stdout, child.stderr])
    s?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
  let ended: SlugExit | undefined;
  const exited = new Promise<SlugExit>((res) => {
    const end = (e: SlugExit) => {
      ended = e;
      res(e);
    };
    // 'close', not 'exit': by then all its output has been read.
    child.once('close', (code, signal) => end({ code, signal }));
    child.once('error', (e) => {
      out += `${e.message}\n`;
      end({ code: null, signal: null });
    });
  });
  let stopping: Promise<SlugExit> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (!ended) {
        signalGroup(child, 'SIGTERM');
        const t = setTimeout(() => signalGroup(child, 'SIGKILL'), opts.stopGraceMs ?? 3000);
        await exited;
        clearTimeout(t);
      }
      // The process may have exited while what it forked lives on in the group.
      signalGroup(child, 'SIGKILL');
      if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
      return exited;
    })();
    return stopping;
  };
  const url = `http://127.0.0.1:${port}`;
  const proc: SlugProcess = {
    url,
    port,
    dir,
    pid: child.pid ?? 0,
    user,
    output: () => out,
    exited,
    fetch: (path, init) => fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000), ...init }),
    stop,
  };
  if (opts.bind === false) return proc;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (ended) {
      await stop();
      const status = ended.signal ? `signal ${ended.signal}` : `code ${ended.code}`;
      throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_SLUG_EXITED({ command, status, port, output: out });
    }
    if (await canConnect(port)) return proc;
    if (Date.now() > deadline) {
      await stop();
      throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_SLUG_BOOT_TIMEOUT({
        command,
        port,
        ms: timeoutMs,
        output: out,
      });
    }
    await sleep(100);
  }
}

/**
 * Run `command` of `slug` to completion like a one-off dyno (`release`, a task); resolves with
 * how it ended and its output. After `timeoutMs` (default 30 s) it is stopped.
 */
export async function runSlug(
  slug: string,
  command: string,
  opts: Omit<StartSlugOptions, 'bind' | 'port'> = {},
): Promise<SlugExit & { output: string }> {
  const p = await startSlug(slug, command, { dyno: 'run.1', ...opts, bind: false });
  const timer = setTimeout(() => void p.stop(), opts.timeoutMs ?? 30_000);
  await p.exited;
  clearTimeout(timer);
  const exit = await p.stop();
  return { ...exit, output: p.output() };
}
