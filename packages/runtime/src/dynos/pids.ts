/**
 * A limit on the processes and threads of each dyno and each build, so that a fork bomb in one
 * app reaches its limit instead of the machine's pid table:
 * 1. cgroup v2 with the pids controller, or cgroup v1's `pids` hierarchy: `pids.max` per dyno
 *    (exact: counts that dyno's tasks only); everything left in it is killed when it ends.
 * 2. otherwise RLIMIT_NPROC (`ulimit -u` in the dyno's launcher): the kernel counts every task
 *    of the uid, and since each app has its own uid this is a per-app budget shared by its
 *    dynos and builds.
 * The limits follow Heroku's per-size process/thread limits (256 for standard-1X).
 */
import { constants } from 'node:fs';
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** How process counts are limited on this host. */
export type PidsMechanism = 'cgroup2' | 'cgroup1' | 'nproc';

const V2_ROOT = '/sys/fs/cgroup';
const V1_ROOT = '/sys/fs/cgroup/pids';

/** Tasks (processes + threads) a build may have at once: compilers and JVMs use many threads. */
export const BUILD_PIDS_LIMIT = 512;

/** Heroku's process/thread limit of a dyno size, from its memory quota. */
export function pidsLimitFor(memoryMb: number): number {
  if (memoryMb <= 512) return 256;
  if (memoryMb <= 1024) return 512;
  if (memoryMb <= 2560) return 16_384;
  return 32_768;
}

/** Find the best mechanism this process can use (root and a writable pids hierarchy for cgroups). */
export async function detectPidsMechanism(): Promise<PidsMechanism> {
  try {
    const controllers = await readFile(join(V2_ROOT, 'cgroup.controllers'), 'utf8');
    if (controllers.split(/\s+/).includes('pids')) {
      await access(V2_ROOT, constants.W_OK);
      return 'cgroup2';
    }
  } catch {}
  try {
    await access(join(V1_ROOT, 'cgroup.procs'), constants.R_OK);
    await access(V1_ROOT, constants.W_OK);
    return 'cgroup1';
  } catch {}
  return 'nproc';
}

/** The pids cgroup of one dyno or build. */
export class PidsCgroup {
  private constructor(readonly path: string) {}

  /** Create `slipway/<id>` in the pids hierarchy with `pids.max` = `max`. */
  static async create(mechanism: 'cgroup1' | 'cgroup2', id: string, max: number): Promise<PidsCgroup> {
    const root = mechanism === 'cgroup2' ? V2_ROOT : V1_ROOT;
    const parent = join(root, 'slipway');
    await mkdir(parent, { recursive: true });
    if (mechanism === 'cgroup2') {
      await writeFile(join(root, 'cgroup.subtree_control'), '+pids').catch(() => {});
      await writeFile(join(parent, 'cgroup.subtree_control'), '+pids').catch(() => {});
    }
    // On v2 this is the same directory as the dyno's memory cgroup (one tree, many controllers).
    const path = join(parent, id);
    await mkdir(path, { recursive: true });
    await writeFile(join(path, 'pids.max'), String(max));
    return new PidsCgroup(path);
  }

  /** The cgroup recorded before a platform restart. */
  static adopt(path: string): PidsCgroup {
    return new PidsCgroup(path);
  }

  /** Move a process (and all it forks later) into this cgroup. */
  async add(pid: number): Promise<void> {
    await writeFile(join(this.path, 'cgroup.procs'), String(pid)).catch((e: NodeJS.ErrnoException) => {
      // Already gone (a one-off under `script` is not held at the gate): nothing left to limit.
      if (e.code !== 'ESRCH') throw e;
    });
  }

  /** Tasks in the cgroup now. */
  async current(): Promise<number> {
    return Number((await readFile(join(this.path, 'pids.current'), 'utf8')).trim());
  }

  /** Pids of the processes in the cgroup. */
  async procs(): Promise<number[]> {
    const text = await readFile(join(this.path, 'cgroup.procs'), 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map(Number);
  }

  /**
   * SIGKILL whatever is left (a process that left the dyno's process group with setsid is still
   * here), then remove the cgroup. Bounded: gives up after ~5 s.
   */
  async remove(): Promise<void> {
    for (let i = 0; i < 250; i++) {
      const pids = await this.procs();
      if (pids.length === 0) break;
      for (const pid of pids)
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      await new Promise((r) => setTimeout(r, 20));
    }
    await rmdir(this.path).catch(() => {});
  }
}
