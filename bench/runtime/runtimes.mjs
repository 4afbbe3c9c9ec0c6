#!/usr/bin/env node
// Benchmark, side by side in one run: the `local`, `sandbox` and `docker` dyno runtimes, each in a
// real in-process platform (Node.js buildpack, the dependency-free hello fixture):
//  1. build finished → new release serving: from the `Release vN created` log line until the
//     router sends requests only to vN's web dynos and one answers (every deploy ships a new
//     slug, so the Docker runtime makes a new slug image each time; target ≤ 2 s on Docker);
//  2. `ps:scale web=N` → N web dynos up and routed (target 100 in ≤ 30 s on Docker), with where
//     the time went per phase (scale-phases.mjs) and the CPU by part (cpu-split.mjs);
//  3. memory per dyno beyond the app's own process, the same way on each runtime
//     (dyno-memory.mjs: its cgroup's anonymous and kernel memory minus the app's, its processes
//     outside the cgroup by PSS, Docker's network holder and engine growth shared per dyno);
//     and by plain RSS as before: local = the dyno's launcher shell and watcher; sandbox =
//     those plus setpriv/bwrap's outer process and bwrap's init; docker = its containerd shim
//     and tini, plus dockerd/containerd growth per dyno.
// Usage: npx tsc -b && node bench/runtime/runtimes.mjs [dynos=100] [deploys=3] [runtimes=local,sandbox,docker]
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, readdir, readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { benchPlatform, ROOT, removeSlugImages, timeDeployToServing, timeScale } from './bench-lib.mjs';
import { cpuSplit, formatCpu } from './cpu-split.mjs';
import { dynoMemory, meanMemory } from './dyno-memory.mjs';
import { formatPhases, watchScale } from './scale-phases.mjs';

const execFileP = promisify(execFile);
const N = Number(process.argv[2] ?? 100);
const DEPLOYS = Number(process.argv[3] ?? 3);
const RUNTIMES = (process.argv[4] ?? 'local,sandbox,docker').split(',');

/** RSS (KB) and command of every process, by pid. */
async function processes() {
  const { stdout } = await execFileP('ps', ['-eo', 'pid=,ppid=,pgid=,rss=,args='], { maxBuffer: 64 << 20 });
  return stdout
    .trim()
    .split('\n')
    .map((l) => {
      const [pid, ppid, pgid, rss, ...args] = l.trim().split(/\s+/);
      return { pid: +pid, ppid: +ppid, pgid: +pgid, rss: +rss, args: args.join(' ') };
    });
}

const rssOf = (ps, re) => ps.filter((p) => re.test(p.args)).reduce((s, p) => s + p.rss, 0);

async function run(runtime) {
  const bench = await benchPlatform(runtime, { runtime, stopGraceMs: 5000 });
  const { p, dir } = bench;
  const fallback = p.warnings.find((w) => /NOT sandboxed/.test(w));
  if (runtime === 'sandbox' && fallback) {
    await bench.stop();
    throw new Error(`the sandbox runtime is unavailable here: ${fallback}`);
  }
  const out = { runtime, release: [], scaleMs: undefined, perDynoKB: undefined, appKB: undefined };
  try {
    await bench.api('POST', '/apps', { name: 'bench' });
    const app = join(dir, 'hello');
    await cp(join(ROOT, 'packages/runtime/test/fixtures/hello'), app, { recursive: true });
    for (let i = 0; i <= DEPLOYS; i++) {
      const ms = await timeDeployToServing(bench, 'bench', app, 'VERSION');
      if (i > 0) out.release.push(ms);
    }
    const idle = await processes();
    // The platform's own CPU while it scales (it runs in this process): what is not the runtime's.
    const cpu0 = process.cpuUsage();
    const docker = runtime === 'docker' ? new (await import('dockerode')).default() : undefined;
    const platformId = createHash('sha256').update(join(dir, 'data')).digest('hex').slice(0, 16);
    const split = await cpuSplit({ docker, label: `slipway.platform=${platformId}` });
    const watch = await watchScale(bench, 'bench', performance.now(), { docker, platformId });
    out.scaleMs = await timeScale(bench, 'bench', N, { routed: true, pollMs: 100 });
    const cpu = process.cpuUsage(cpu0);
    out.phases = watch.stop();
    out.cpu = await split.end();
    out.scaleCpuS = (cpu.user + cpu.system) / 1e6;
    await new Promise((r) => setTimeout(r, 3000));
    const full = await processes();
    const apps = full.filter((x) => /^node server\.js/.test(x.args));
    out.appKB = apps.reduce((s, x) => s + x.rss, 0) / apps.length;
    if (runtime !== 'docker') {
      // Each dyno is a process group led by its launcher (sandbox: by the gate that execs
      // setpriv and bwrap); everything in it but the app is overhead.
      const runDir = (await readFile(join(dir, 'data', 'runtime-dir'), 'utf8')).trim();
      const dynosDir = join(runDir, 'apps', 'bench', 'dynos');
      const dynoDirs = await readdir(dynosDir);
      const leaders = [];
      const cgroupBytes = [];
      for (const d of dynoDirs) {
        const rec = JSON.parse(await readFile(join(dynosDir, d, 'dyno.json'), 'utf8').catch(() => '{}'));
        if (rec.pid) leaders.push(rec.pid);
        // The dyno's memory cgroup: everything it is charged, kernel memory of its namespaces too.
        const usage = await readFile(join(rec.cgroup ?? '/nonexistent', 'memory.current'), 'utf8')
          .catch(() => readFile(join(rec.cgroup ?? '/nonexistent', 'memory.usage_in_bytes'), 'utf8'))
          .catch(() => undefined);
        if (usage) cgroupBytes.push(Number(usage));
      }
      if (cgroupBytes.length)
        out.cgroupKB = cgroupBytes.reduce((a, b) => a + b, 0) / cgroupBytes.length / 1024;
      const groups = new Set(leaders);
      const mem = [];
      for (const d of dynoDirs) {
        const rec = JSON.parse(await readFile(join(dynosDir, d, 'dyno.json'), 'utf8').catch(() => '{}'));
        if (!rec.cgroup || !rec.pid) continue;
        const own = full.filter((x) => x.pgid === rec.pid).map((x) => x.pid);
        mem.push(await dynoMemory(rec.cgroup, /^node server\.js/, own));
      }
      out.mem = meanMemory(mem);
      out.mem.totalKB = out.mem.insideKB + out.mem.outsideKB;
      const extra = full.filter((x) => groups.has(x.pgid) && !/^node server\.js/.test(x.args));
      out.perDynoKB = extra.reduce((s, x) => s + x.rss, 0) / groups.size;
      if (process.env.BENCH_VERBOSE)
        console.log({ groups: groups.size, extra: extra.map((x) => x.args.slice(0, 60)) });
    } else {
      const shims = full.filter((x) => /containerd-shim/.test(x.args)).reduce((s, x) => s + x.rss, 0);
      const tinis = full.filter((x) => /tini -g -s --/.test(x.args)).reduce((s, x) => s + x.rss, 0);
      const daemons = (ps) => rssOf(ps, /^(\/usr\/s?bin\/)?(dockerd|containerd)( |$)/);
      const count = full.filter((x) => /tini -g -s --/.test(x.args)).length;
      out.perDynoKB = (shims + tinis + (daemons(full) - daemons(idle))) / count;
      // Each container's memory cgroup: the app, tini and the launcher, their page cache and the
      // kernel's memory of the container (its namespaces, its overlay mount's inodes).
      const { cgroupMemory } = await import('../../packages/runtime/dist/dynos/docker-container.js');
      const usages = [];
      for (const d of bench.p.dynos.status('bench'))
        if (d.id) {
          const u = await cgroupMemory(d.id);
          if (u !== undefined) usages.push(u);
        }
      if (usages.length) out.cgroupKB = usages.reduce((a, b) => a + b, 0) / usages.length / 1024;
      // The same split as the other runtimes': in the container's cgroup beyond the app, its shim
      // outside it (PSS), and the app's network holder (docker-app-netns.ts) shared by its dynos.
      const shimOf = (id) => full.filter((x) => x.args.includes(`-id ${id} `)).map((x) => x.pid);
      const mem = [];
      for (const d of bench.p.dynos.status('bench'))
        if (d.id)
          mem.push(
            await dynoMemory(`/sys/fs/cgroup/memory/docker/${d.id}`, /^node server\.js/, shimOf(d.id)),
          );
      out.mem = meanMemory(mem);
      const holders = await docker.listContainers({
        filters: { label: [`slipway.platform=${platformId}`, 'slipway.role=netns'] },
      });
      let holderKB = 0;
      for (const h of holders) {
        const m = await dynoMemory(`/sys/fs/cgroup/memory/docker/${h.Id}`, /^$/, shimOf(h.Id));
        holderKB += m.insideKB + m.outsideKB;
      }
      out.mem.sharedKB = holderKB / mem.length + (daemons(full) - daemons(idle)) / mem.length;
      out.mem.totalKB = out.mem.insideKB + out.mem.outsideKB + out.mem.sharedKB;
      out.dockerDetail = `shim ${(shims / count / 1024).toFixed(1)} MB + tini ${(tinis / count / 1024).toFixed(1)} MB + daemons ${((daemons(full) - daemons(idle)) / count / 1024).toFixed(1)} MB`;
    }
  } finally {
    await bench.stop();
    if (runtime === 'docker') await removeSlugImages(join(dir, 'data'));
  }
  return out;
}

const load = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
console.log(`load average at start: ${load}; ${N} dynos, ${DEPLOYS} deploys per runtime`);
const results = [];
for (const r of RUNTIMES) {
  const t = performance.now();
  results.push(await run(r));
  console.log(`  ${r}: measured in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const r of results)
  console.log(
    `\n${r.runtime}: where the scale to ${N} went (ms since the request)\n${formatPhases(r.phases)}\n    CPU during it: ${formatCpu(r.cpu)}`,
  );
const mb = (kb) => `${((kb ?? 0) / 1024).toFixed(1)} MB`.padEnd(10);
console.log(
  '\nmemory per dyno   app RSS   app anon  inside    outside   shared    = beyond the app (inside: its cgroup anon+kernel minus the app anon; outside: its shim/bwrap PSS; shared: network holder + engine growth per dyno)',
);
for (const r of results)
  if (r.mem)
    console.log(
      `${r.runtime.padEnd(17)} ${mb(r.mem.appRssKB)}${mb(r.mem.appAnonKB)}${mb(r.mem.insideKB)}${mb(r.mem.outsideKB)}${mb(r.mem.sharedKB)}${mb(r.mem.totalKB)} (n=${r.mem.n})`,
    );
console.log(
  '\nruntime  build→serving median (max)   N web dynos up+routed (platform CPU)   overhead/dyno   app RSS/dyno   cgroup/dyno',
);
for (const r of results)
  console.log(
    `${r.runtime.padEnd(8)} ${`${med(r.release).toFixed(0)} ms (${Math.max(...r.release).toFixed(0)} ms)`.padEnd(28)} ${`${(r.scaleMs / 1000).toFixed(1)} s (${r.scaleCpuS.toFixed(1)} s)`.padEnd(38)} ${`${(r.perDynoKB / 1024).toFixed(1)} MB`.padEnd(15)} ${`${(r.appKB / 1024).toFixed(1)} MB`.padEnd(14)} ${r.cgroupKB ? `${(r.cgroupKB / 1024).toFixed(1)} MB` : '-'}${r.dockerDetail ? `  (${r.dockerDetail})` : ''}`,
  );
const base = results.find((r) => r.runtime === 'local');
for (const b of results)
  if (base && b !== base)
    console.log(
      `${b.runtime}/local: build→serving ×${(med(b.release) / med(base.release)).toFixed(2)}, scale ×${(b.scaleMs / base.scaleMs).toFixed(2)}, overhead ×${(b.perDynoKB / base.perDynoKB).toFixed(2)} (+${((b.perDynoKB - base.perDynoKB) / 1024).toFixed(1)} MB)${b.cgroupKB && base.cgroupKB ? `, cgroup +${((b.cgroupKB - base.cgroupKB) / 1024).toFixed(1)} MB` : ''}`,
    );
console.log(
  `load average at end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
