/**
 * One dyno as a local process group. The dyno is `bash` running a fixed launcher script: it
 * waits for the runtime's go-ahead on fd 3 (so the runtime can move it into its memory cgroup
 * before anything runs), sources `.profile.d/*.sh`, then execs `bash -c "$command"`. The
 * command is passed as an argument, never spliced into the script. Everything the dyno forks
 * stays in its process group; the dyno is over when the whole group is gone, not when its
 * first process exits (an app that ignores SIGTERM behind a shell must still be found).
 * A dyno dies with the platform process (a watcher in its group reads fd 3 until EOF): a
 * restarted platform starts the formation again anyway, and no dyno is ever left orphaned,
 * even when the data dir that records it is gone.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { type Clock, dynoLauncher, MAX_LINE_BYTES, splitLines, systemClock } from '@slipway/core';
import { LogBudget, type LogBudgetOptions } from '../logs/log-budget.js';
import { liveProcessGroups } from './memory.js';

/**
 * The launcher (core's dyno contract, after this runtime's own set-up): the command arrives as
 * $1 (or $SLIPWAY_COMMAND under `script`).
 */
export const LAUNCHER = dynoLauncher(
  [
    'if [ -n "$SLIPWAY_GO_FD" ]; then read -r -u 3 _ || true',
    // The runtime keeps fd 3 open while it lives: EOF means the platform died; the dyno dies too.
    '  ( read -r -u 3 _; kill -KILL 0 ) </dev/null >/dev/null 2>&1 &',
    '  exec 3<&-; fi; unset SLIPWAY_GO_FD',
    'if [ $# -gt 0 ]; then cmd="$1"; else cmd="$SLIPWAY_COMMAND"; fi; unset SLIPWAY_COMMAND SLIPWAY_LAUNCHER',
    'if [ -n "$SLIPWAY_TTY_SIZE" ]; then stty $SLIPWAY_TTY_SIZE 2>/dev/null || true; fi; unset SLIPWAY_TTY_SIZE',
    // Without a pids cgroup: the app's uid gets a process budget before anything of the app's runs.
    'if [ -n "$SLIPWAY_NPROC" ]; then ulimit -u "$SLIPWAY_NPROC" || exit 126; fi; unset SLIPWAY_NPROC',
  ],
  '"$cmd"',
);

/** How a dyno process ended. */
export interface DynoExit {
  /** Exit code as the shell reports it: the code, or 128 + signal number. */
  status: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why the runtime ended it, when it did: stop timeout (R12) or memory (R15). */
  reason?: 'stop-timeout' | 'memory';
}

/** Options to spawn a dyno process. */
export interface DynoProcessOptions {
  command: string;
  cwd: string;
  env: Record<string, string>;
  uid?: number;
  gid?: number;
  /** Run under `script` with a pseudo-terminal (attached `run` with a TTY). */
  tty?: { columns: number; rows: number };
  /** Keep stdin open for an attached session. */
  stdin?: boolean;
  /** Emit `line` events for stdout/stderr (detached dynos); false leaves the streams to the caller. */
  lines?: boolean;
  /**
   * An argv the launcher runs under (a sandbox: see sandbox/sandbox.ts). It is started only
   * after the go-ahead, so that everything it forks is born inside the dyno's cgroups; `uid`
   * and `gid` are then the wrapper's business (the platform does not switch users itself).
   */
  wrap?: string[];
  /** How much the dyno may log with `lines` (see log-budget.ts); default 2000 lines/s, bursts of 10,000. */
  logBudget?: LogBudgetOptions;
  /** Called with the pid before the dyno may start, e.g. to move it into a cgroup. */
  beforeGo?: (pid: number) => Promise<void>;
}

/** Exit status from a code or a signal, shell style (SIGTERM → 143). */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
}

/**
 * Sets a terminal's size in one TIOCSWINSZ (rows, columns): `stty cols C rows R` takes two, and a
 * dyno woken by the first SIGWINCH reads half a resize. Perl is in every Debian (perl-base is
 * essential); 0x5414 is Linux's TIOCSWINSZ on x86 and Arm.
 */
const SET_WINSIZE =
  'open(my $t, "+<", $ARGV[0]) or exit 1; ioctl($t, 0x5414, pack("S4", $ARGV[2], $ARGV[1], 0, 0)) or exit 1';

/**
 * A running dyno process group. Events: `line` (text, stream), `dropped` (the L10 message for
 * lines over the log budget), `exit` (DynoExit).
 */
export class DynoProcess extends EventEmitter {
  readonly child: ChildProcess;
  /** The pid, which is also the process group id. */
  readonly pid: number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly stdin: Writable | undefined;
  /** Resolves when every process of the group is gone. */
  readonly exited: Promise<DynoExit>;
  private stopping = false;
  private reason: DynoExit['reason'];
  private leaderExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private killedHard = false;
  /** Under `script`: the dyno's pseudo-terminal once found, and the resizes queued on it. */
  private tty: { path?: string; queue: Promise<void>; next?: [string, string] } | undefined;

  private constructor(child: ChildProcess, emitLines: boolean, tty: boolean, budgetOpts?: LogBudgetOptions) {
    super();
    if (tty) this.tty = { queue: Promise.resolve() };
    this.child = child;
    this.pid = child.pid!;
    // Node resumes (and so discards) a child's stdio that nobody reads by the time it exits; a
    // one-off can finish before its session or client is there. Buffering here keeps its output
    // (with back-pressure: a full buffer pauses the dyno's writes, nothing is dropped).
    this.stdout = emitLines ? child.stdout! : child.stdout!.pipe(new PassThrough());
    this.stderr = emitLines ? child.stderr! : child.stderr!.pipe(new PassThrough());
    this.stdin = child.stdin ?? undefined;
    if (emitLines) {
      // Lines are capped at 10,000 bytes as they are read: whatever the app writes, the
      // platform holds at most one piece per stream (see core's line-splitter.ts). Lines over the
      // dyno's log budget are dropped right there, before they cost a string or an event, and
      // reported as `dropped` (the L10 message).
      const budget = new LogBudget(budgetOpts);
      const report = (m: string) => this.emit('dropped', m);
      const admit = (bytes: number) => budget.admit('dyno', bytes, report);
      splitLines(this.stdout, (l) => this.emit('line', l, 'stdout'), MAX_LINE_BYTES, admit);
      splitLines(this.stderr, (l) => this.emit('line', l, 'stderr'), MAX_LINE_BYTES, admit);
      this.once('exit', () => budget.forget('dyno', report));
    }
    this.exited = new Promise<DynoExit>((resolve) => {
      child.once('exit', async (code, signal) => {
        this.leaderExit = { code, signal };
        // A crash (not a stop): whatever the dyno left behind dies with it, as on Heroku.
        if (!this.stopping) this.killGroup('SIGKILL');
        while (await this.groupAlive()) await sleep(25);
        const forced = this.killedHard && this.reason !== undefined;
        const out: DynoExit = {
          status: forced ? 137 : exitStatus(code, signal),
          code: forced ? null : code,
          signal: forced ? 'SIGKILL' : signal,
          ...(this.reason ? { reason: this.reason } : {}),
        };
        this.emit('exit', out);
        resolve(out);
      });
    });
  }

  /** Spawn a dyno; resolves once it runs (after `beforeGo`). */
  static async spawn(opts: DynoProcessOptions): Promise<DynoProcess> {
    const env: Record<string, string> = { ...opts.env, SLIPWAY_GO_FD: '3' };
    let file = 'bash';
    let args = ['-c', LAUNCHER, 'dyno', opts.command];
    if (opts.tty) {
      // `script` runs its -c string with $SHELL; the string is fixed, the command travels in env.
      env.SHELL = '/bin/bash';
      env.SLIPWAY_LAUNCHER = LAUNCHER;
      env.SLIPWAY_COMMAND = opts.command;
      env.SLIPWAY_TTY_SIZE = `cols ${opts.tty.columns} rows ${opts.tty.rows}`;
      env.SLIPWAY_GO_FD = '';
      // The go-ahead is awaited before `script` starts: what it forks must be born inside the
      // dyno's cgroups (a process joining a cgroup does not bring the children it already has).
      file = 'bash';
      args = [
        '-c',
        `read -r -u 3 _ || true; exec 3<&-; exec script -qfec 'exec bash -c "$SLIPWAY_LAUNCHER"' /dev/null`,
        'dyno-tty',
      ];
    }
    // Each gate reads one line from fd 3: the wrapper's, then the launcher's (or script's).
    let gates = 1;
    if (opts.wrap) {
      args = ['-c', 'read -r -u 3 _ || exit 126; exec "$@"', 'dyno-gate', ...opts.wrap, file, ...args];
      file = 'bash';
      gates = 2;
    }
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env,
      detached: true, // own process group: stop and kill reach everything it forks
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'],
      ...(opts.uid !== undefined && !opts.wrap ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const proc = new DynoProcess(child, opts.lines !== false, opts.tty !== undefined, opts.logBudget);
    const go = child.stdio[3] as Writable;
    try {
      await opts.beforeGo?.(child.pid!);
    } catch (e) {
      proc.killGroup('SIGKILL');
      throw e;
    }
    go.on('error', () => {});
    // Written, never ended: the dyno's watcher reads EOF only when this process is gone.
    go.write('go\n'.repeat(gates));
    (go as unknown as { unref?: () => void }).unref?.();
    return proc;
  }

  /** Whether any process of the group is still alive (zombies waiting for PID 1 do not count). */
  async groupAlive(): Promise<boolean> {
    try {
      process.kill(-this.pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
    }
    return (await liveProcessGroups()).has(this.pid);
  }

  /** Send a signal to the whole group; ignores a group already gone. */
  killGroup(signal: NodeJS.Signals): void {
    if (signal === 'SIGKILL') this.killedHard = true;
    try {
      process.kill(-this.pid, signal);
    } catch {}
  }

  /**
   * Set the window size of a `tty` dyno's pseudo-terminal; the kernel sends SIGWINCH to its
   * foreground job, as a local terminal would. `script` owns the terminal's master side, so the
   * size is set on the slave (SET_WINSIZE), found as the controlling terminal of script's child.
   * Resizes apply in order; one that finds the dyno gone is dropped.
   */
  resize(columns: number, rows: number): Promise<void> {
    const tty = this.tty;
    if (!tty) return Promise.resolve();
    const size = (n: number) => String(Math.min(Math.max(Math.trunc(n), 1), 10_000));
    // Only the latest size matters: a burst of resizes (a window dragged) runs stty at most twice.
    const queued = tty.next !== undefined;
    tty.next = [size(columns), size(rows)];
    if (queued) return tty.queue;
    tty.queue = tty.queue.then(async () => {
      const next = tty.next as [string, string];
      tty.next = undefined;
      // A gone dyno's terminal number may already belong to someone else.
      if (this.leaderExit) return;
      tty.path ??= await ptyOfChild(this.pid);
      if (!tty.path || this.leaderExit) return;
      const path = tty.path;
      await new Promise<void>((resolve) =>
        execFile('perl', ['-e', SET_WINSIZE, path, next[0], next[1]], (err) => {
          if (!err) return resolve();
          // No perl: stty's two steps are better than no resize.
          execFile('stty', ['-F', path, 'cols', next[0], 'rows', next[1]], () => resolve());
        }),
      );
    });
    return tty.queue;
  }

  /** Kill the group for exceeding its memory (R15). */
  killForMemory(): void {
    this.reason ??= 'memory';
    this.killGroup('SIGKILL');
  }

  /**
   * SIGTERM to the group, SIGKILL after `graceMs` on `clock` (R12). Resolves with how it ended.
   * The group is watched every 25 ms of real time (it is gone when its last process is).
   */
  async stop(graceMs: number, clock: Clock = systemClock): Promise<DynoExit> {
    if (!this.stopping) {
      this.stopping = true;
      this.killGroup('SIGTERM');
      let due = graceMs <= 0;
      const timer = clock.setTimeout(() => {
        due = true;
      }, graceMs);
      void (async () => {
        while ((await this.groupAlive()) || !this.leaderExit) {
          if (due) {
            if (await this.groupAlive()) {
              this.reason ??= 'stop-timeout';
              this.killGroup('SIGKILL');
            }
            return;
          }
          await sleep(due ? 1 : 25);
        }
        timer.cancel();
      })();
    }
    return this.exited;
  }
}

/**
 * The pseudo-terminal of a `tty` dyno, as a path the platform can open: `/proc/<pid>/fd/0` of the
 * first process below `parent` whose controlling terminal is a pty and whose stdin is that pty
 * (script's child). Opened through /proc, the path names that very terminal even when the dyno
 * sits in a sandbox with its own devpts instance, where `/dev/pts/N` on the host is another one.
 */
export async function ptyOfChild(parent: number): Promise<string | undefined> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const children = new Map<number, number[]>();
  const ttyOf = new Map<number, number>();
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    // Fields after the command name: state, ppid, pgrp, session, tty_nr.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(pid)]);
    ttyOf.set(Number(pid), Number(rest[4]));
  }
  // Breadth first: script's child is a few levels down when the dyno runs in a wrapper.
  const queue = [...(children.get(parent) ?? [])];
  for (let seen = 0; queue.length > 0 && seen < 256; seen++) {
    const pid = queue.shift() as number;
    const major = ((ttyOf.get(pid) ?? 0) >> 8) & 0xfff;
    // Unix98 pseudo-terminal slaves: majors 136–143.
    if (major >= 136 && major <= 143) {
      const link = await readlink(`/proc/${pid}/fd/0`).catch(() => '');
      if (/^\/dev\/pts\/\d+$/.test(link)) return `/proc/${pid}/fd/0`;
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
