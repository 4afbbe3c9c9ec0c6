/**
 * Per-dyno memory limits, with the strongest mechanism the host allows, found at start:
 * 1. cgroup v2 (`/sys/fs/cgroup` is cgroup2 with the memory controller and writable):
 *    `memory.max` = 2 × quota; the kernel OOM-kills the dyno at R15.
 * 2. cgroup v1 (`/sys/fs/cgroup/memory` writable): `memory.limit_in_bytes` = 2 × quota.
 * 3. polling: the summed VmRSS of the dyno's process group from /proc; the runtime kills the
 *    group itself above 2 × quota.
 * In every case the runtime polls usage so that R14 (over quota) can be logged, as on Heroku.
 * `prlimit --as` is not used: it limits address space, not memory, and V8 reserves gigabytes
 * of address space it never touches, so Node apps would fail at any useful limit.
 */

import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** How memory is limited on this host. */
export type MemoryMechanism = 'cgroup2' | 'cgroup1' | 'poll' | 'none';

const V2_ROOT = '/sys/fs/cgroup';
const V1_ROOT = '/sys/fs/cgroup/memory';

/** Find the best mechanism available to this process (root and a writable cgroup tree needed for cgroups). */
export async function detectMemoryMechanism(): Promise<MemoryMechanism> {
  try {
    const controllers = await readFile(join(V2_ROOT, 'cgroup.controllers'), 'utf8');
    if (controllers.split(/\s+/).includes('memory')) {
      await access(V2_ROOT, constants.W_OK);
      return 'cgroup2';
    }
  } catch {}
  try {
    await access(join(V1_ROOT, 'memory.limit_in_bytes'), constants.R_OK);
    await access(V1_ROOT, constants.W_OK);
    return 'cgroup1';
  } catch {}
  return 'poll';
}

/** A memory cgroup of one dyno (v1 or v2). */
export class DynoCgroup {
  private constructor(
    readonly path: string,
    readonly version: 1 | 2,
  ) {}

  /** Create the cgroup `slipway/<id>` with a hard limit of `limitBytes`. */
  static async create(version: 1 | 2, id: string, limitBytes: number): Promise<DynoCgroup> {
    const root = version === 2 ? V2_ROOT : V1_ROOT;
    const parent = join(root, 'slipway');
    await mkdir(parent, { recursive: true });
    if (version === 2) {
      // A cgroup may only use controllers its parent delegates: root → slipway → the dyno.
      await writeFile(join(root, 'cgroup.subtree_control'), '+memory').catch(() => {});
      await writeFile(join(parent, 'cgroup.subtree_control'), '+memory').catch(() => {});
    }
    const path = join(parent, id);
    await mkdir(path, { recursive: true });
    const cg = new DynoCgroup(path, version);
    if (version === 2) {
      await writeFile(join(path, 'memory.max'), String(limitBytes));
      await writeFile(join(path, 'memory.swap.max'), '0').catch(() => {});
    } else {
      await writeFile(join(path, 'memory.limit_in_bytes'), String(limitBytes));
      await writeFile(join(path, 'memory.memsw.limit_in_bytes'), String(limitBytes)).catch(() => {});
    }
    return cg;
  }

  /** The cgroup of a dyno recorded before a platform restart. */
  static adopt(path: string): DynoCgroup {
    return new DynoCgroup(path, path.startsWith(V1_ROOT) ? 1 : 2);
  }

  /** Move a process (and so all it forks later) into this cgroup. */
  async add(pid: number): Promise<void> {
    await writeFile(join(this.path, 'cgroup.procs'), String(pid));
  }

  /** Anonymous memory in use (what Heroku calls RSS + swap), in bytes. */
  async usage(): Promise<number> {
    const stat = await readFile(join(this.path, 'memory.stat'), 'utf8');
    const key = this.version === 2 ? 'anon' : 'total_rss';
    const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(stat);
    return m ? Number(m[1]) : 0;
  }

  /** How many times the kernel OOM-killed a process of this cgroup. */
  async oomKills(): Promise<number> {
    const file = this.version === 2 ? 'memory.events' : 'memory.oom_control';
    const text = await readFile(join(this.path, file), 'utf8').catch(() => '');
    const m = /^oom_kill (\d+)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  }

  /** Remove the cgroup once its processes are gone; retried briefly because exit is asynchronous. */
  async remove(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      try {
        await rmdir(this.path);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

/**
 * Summed VmRSS (bytes) of every process, by process group, from one scan of /proc: one scan
 * serves all dynos of a polling tick.
 */
export async function rssByProcessGroup(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const entries = await readdir('/proc').catch(() => [] as string[]);
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (pid) => {
        try {
          const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
          // Fields after the `(comm)` (which may hold spaces): state ppid pgrp … rss is field 24.
          const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          const pgrp = Number(rest[2]);
          const rssPages = Number(rest[21]);
          out.set(pgrp, (out.get(pgrp) ?? 0) + rssPages * 4096);
        } catch {
          // The process exited during the scan.
        }
      }),
  );
  return out;
}

/** The start time of a process (clock ticks since boot), to tell it from a later one with the same pid. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

let groupScan: { at: number; groups: Promise<Set<number>> } | undefined;

/**
 * Process groups that still have a live (non-zombie) member, from one /proc scan shared by all
 * callers for 20 ms. `kill(-pgid, 0)` is not enough: it counts zombies, and a dyno's orphans
 * stay zombies until PID 1 reaps them, which some inits (container agents) do only every few s.
 */
export function liveProcessGroups(): Promise<Set<number>> {
  const now = Date.now();
  if (groupScan && now - groupScan.at < 20) return groupScan.groups;
  const groups = (async () => {
    const out = new Set<number>();
    const entries = await readdir('/proc').catch(() => [] as string[]);
    await Promise.all(
      entries
        .filter((e) => /^\d+$/.test(e))
        .map(async (pid) => {
          try {
            const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
            const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
            if (rest[0] !== 'Z' && rest[0] !== 'X') out.add(Number(rest[2]));
          } catch {}
        }),
    );
    return out;
  })();
  groupScan = { at: now, groups };
  return groups;
}
