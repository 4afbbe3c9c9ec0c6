// A dyno's memory beyond its app process, the same way on every runtime:
//  - inside its memory cgroup: the cgroup's anonymous memory and kernel memory (namespaces,
//    page tables, the overlay's inodes) minus the app process's own anonymous RSS, i.e. what the
//    container / sandbox / launcher keeps next to the app (tini, bwrap's init, a shell);
//    page cache is left out (the node binary's pages are shared by every dyno and reclaimable);
//  - outside it: the dyno's own processes the cgroup does not hold (Docker's containerd shim,
//    the sandbox's outer bwrap), by PSS, so a binary's pages shared by 100 shims count once.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `key value` lines (`key: value kB` too) of a /proc or cgroup file, numbers only. */
const kv = (text) => {
  const out = {};
  for (const m of text.matchAll(/^(\w+):?\s+(\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
};

/** `/proc/<pid>/status` and `smaps_rollup` figures in KB (RssAnon, VmRSS, Pss), and its command. */
export async function proc(pid) {
  const status = kv(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
  const rollup = kv(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => ''));
  const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim();
  return { pid, cmd, rssAnon: status.RssAnon ?? 0, rss: status.VmRSS ?? 0, pss: rollup.Pss ?? 0 };
}

/**
 * The memory of one dyno whose memory cgroup is `dir` (v1 or v2), whose app process's command
 * matches `appRe`, with `outside` pids of its own that the cgroup does not hold. KB.
 */
export async function dynoMemory(dir, appRe, outside = []) {
  const pids = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map(Number);
  const inside = await Promise.all(pids.map(proc));
  const app = inside.find((p) => appRe.test(p.cmd));
  const stat = kv(await readFile(join(dir, 'memory.stat'), 'utf8').catch(() => ''));
  // v1: total_rss (anonymous) and memory.kmem.usage_in_bytes; v2: anon and kernel in memory.stat.
  const anon = stat.total_rss ?? stat.anon ?? 0;
  const kmem =
    stat.kernel ?? Number(await readFile(join(dir, 'memory.kmem.usage_in_bytes'), 'utf8').catch(() => '0'));
  const held = new Set(pids);
  const out = await Promise.all(outside.filter((p) => !held.has(p)).map(proc));
  return {
    appRssKB: app?.rss ?? 0,
    appAnonKB: app?.rssAnon ?? 0,
    insideKB: Math.max(0, (anon + kmem) / 1024 - (app?.rssAnon ?? 0)),
    outsideKB: out.reduce((s, p) => s + p.pss, 0),
    others: [...inside.filter((p) => p !== app), ...out].map((p) => p.cmd.slice(0, 40)),
  };
}

/** The mean of each figure over dynos. */
export function meanMemory(list) {
  const m = (k) => list.reduce((s, x) => s + x[k], 0) / Math.max(1, list.length);
  return {
    n: list.length,
    appRssKB: m('appRssKB'),
    appAnonKB: m('appAnonKB'),
    insideKB: m('insideKB'),
    outsideKB: m('outsideKB'),
  };
}
