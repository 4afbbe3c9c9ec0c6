#!/usr/bin/env node
// Benchmark, in one run on one machine: the `swarm` dyno runtime on a real two-node swarm (the
// local engine as manager, a second dockerd in a network namespace: swarm-test-kit) against the
// `docker` and `local` runtimes, each in a real in-process platform (Node.js buildpack, the
// dependency-free hello fixture):
//  1. build finished → new release serving (bench-lib's timeDeployToServing: from the
//     `Release vN created` log line until the router sends requests only to vN's web dynos and
//     one answers; every deploy ships a new slug, so swarm nodes fetch it and docker makes an image);
//  2. swarm only: `ps:scale web=1 → N` until N web dynos are up and routed, and how they spread
//     over the two nodes.
// Needs root, a Docker engine and the stack image (scripts/stack-setup).
// Usage: npx tsc -b && node bench/runtime/swarm.mjs [deploys=3] [scaleTo=20] [runtimes=local,docker,swarm]
import { cp } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { benchPlatform, ROOT, timeDeployToServing, timeScale } from './bench-lib.mjs';

const DEPLOYS = Number(process.argv[2] ?? 3);
const SCALE_TO = Number(process.argv[3] ?? 20);
const RUNTIMES = (process.argv[4] ?? 'local,docker,swarm').split(',');
const kit = await import(join(ROOT, 'packages/runtime/dist/dynos/swarm-test-kit.test-helper.js'));
const dockerKit = await import(join(ROOT, 'packages/runtime/dist/dynos/docker-test-kit.test-helper.js'));

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function run(runtime) {
  const bench = await benchPlatform(runtime, { runtime, stopGraceMs: 5000 });
  const out = { runtime, release: [] };
  try {
    await bench.api('POST', '/apps', { name: 'bench' });
    const app = join(bench.dir, 'hello');
    await cp(join(ROOT, 'packages/runtime/test/fixtures/hello'), app, { recursive: true });
    // The first deploy starts the app (and, on docker, the first slug image): not counted.
    for (let i = 0; i <= DEPLOYS; i++) {
      const ms = await timeDeployToServing(bench, 'bench', app, 'VERSION');
      if (i > 0) out.release.push(ms);
    }
    if (runtime === 'swarm') {
      out.scaleMs = await timeScale(bench, 'bench', SCALE_TO, { routed: true, pollMs: 100 });
      const nodes = new Map();
      for (const d of bench.p.dynos.status('bench')) nodes.set(d.node, (nodes.get(d.node) ?? 0) + 1);
      out.spread = [...nodes.values()].join(' + ');
    }
  } finally {
    await bench.stop();
    await dockerKit.removePlatformContainers(join(bench.dir, 'data')).catch(() => {});
  }
  return out;
}

console.log(`load average at start: ${load()}; ${DEPLOYS} deploys per runtime, swarm scale 1→${SCALE_TO}`);
const swarm = RUNTIMES.includes('swarm') ? await kit.startTwoNodeSwarm() : undefined;
const results = [];
try {
  for (const r of RUNTIMES) {
    const t = performance.now();
    results.push(await run(r));
    console.log(`  ${r}: measured in ${((performance.now() - t) / 1000).toFixed(0)} s (load ${load()})`);
  }
} finally {
  await swarm?.close();
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log('\nruntime  build→serving median (max)');
for (const r of results)
  console.log(
    `${r.runtime.padEnd(8)} ${med(r.release).toFixed(0)} ms (${Math.max(...r.release).toFixed(0)} ms)${r.scaleMs ? `   web=1→${SCALE_TO} up+routed on two nodes: ${(r.scaleMs / 1000).toFixed(1)} s, spread ${r.spread}` : ''}`,
  );
const base = results.find((r) => r.runtime === 'local');
const docker = results.find((r) => r.runtime === 'docker');
for (const b of results)
  if (b.runtime === 'swarm')
    console.log(
      `swarm: build→serving ×${base ? (med(b.release) / med(base.release)).toFixed(2) : '-'} of local, ×${docker ? (med(b.release) / med(docker.release)).toFixed(2) : '-'} of docker`,
    );
console.log(`load average at end: ${load()}`);
