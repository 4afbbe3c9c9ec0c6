/** Test helpers that look at the machine's processes through /proc (Linux). */
import { readdir, readFile, readlink } from 'node:fs/promises';

/** A live process: its pid, parent, command line (NUL-separated words joined by spaces) and cwd. */
export interface ProcInfo {
  pid: number;
  ppid: number;
  cmdline: string;
  cwd: string;
}

/** Every process whose command line contains `needle` (zombies have none, so never match). */
export async function processesMatching(needle: string): Promise<ProcInfo[]> {
  const out: ProcInfo[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ');
    if (!cmdline.includes(needle)) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? 0);
    out.push({ pid: Number(entry), ppid, cmdline, cwd });
  }
  return out;
}

/** Resident memory of a process in bytes (VmRSS), or 0 once it is gone. */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

/** Sample a process's RSS every `everyMs` until `stop()`; resolves with the peak. */
export function sampleRss(pid: number, everyMs = 100): { stop(): Promise<number>; peak(): number } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await rssOf(pid));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    peak: () => peak,
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

/** CPU time (user + system, seconds) a process has used so far, or 0 once it is gone. */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11] ?? 0) + Number(rest[12] ?? 0)) / 100; // clock ticks (USER_HZ = 100)
}
