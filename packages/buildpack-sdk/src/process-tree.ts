/**
 * Killing a command with everything it started. Build commands stay in the build's own process
 * group (so a platform that kills its build worker's group takes them along), which means abort
 * cannot signal a group of their own: it signals the command's process tree instead, snapshotted
 * before the first signal so that children re-parented when their parent dies are still reached.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Grace between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2000;

/** Every process's parent, from /proc on Linux or `ps` elsewhere. */
function parentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // Fields after the parenthesised name: state, ppid, …
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        parents.set(Number(entry), ppid);
      } catch {
        // Exited while we looked.
      }
    }
    if (parents.size) return parents;
  } catch {
    // No /proc (macOS): ask ps.
  }
  const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid && ppid !== undefined) parents.set(pid, ppid);
  }
  return parents;
}

/** `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const [p, pp] of parentMap()) children.set(pp, [...(children.get(pp) ?? []), p]);
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []));
  return tree;
}

function signal(pids: Iterable<number>, sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // Already gone.
    }
  }
}

/** SIGTERM `pid` and its descendants now, SIGKILL whatever of them (and theirs) is left after a grace. */
export function killTree(pid: number | undefined, graceMs = KILL_GRACE_MS): void {
  if (!pid) return;
  const first = processTree(pid);
  signal(first, 'SIGTERM');
  setTimeout(() => {
    const left = new Set<number>();
    for (const p of first) for (const q of processTree(p)) left.add(q);
    signal(left, 'SIGKILL');
  }, graceMs).unref();
}
