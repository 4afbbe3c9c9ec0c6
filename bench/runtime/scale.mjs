#!/usr/bin/env node
// Benchmark: `ps:scale web=100` through the platform API (the whole stack: API, release
// service, dyno manager, local runtime, router), time until all 100 web dynos are up and
// routed, then the platform process's CPU and memory at idle with them running.
// (bench/runtime/dynos.mjs measures the dyno manager alone.)
// Usage: node bench/runtime/scale.mjs [dynos=100] [idleSeconds=10]   (after `npx tsc -b packages/runtime`)
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packDir } from '@slipway/runtime';
import { benchPlatform, ROOT, timeScale } from './bench-lib.mjs';

const n = Number(process.argv[2] ?? 100);
const idleSeconds = Number(process.argv[3] ?? 10);
const bench = await benchPlatform('scale');
const { api } = bench;

await api('POST', '/apps', { name: 'scale' });
const src = await packDir(join(ROOT, 'packages/runtime/test/fixtures/hello'));
const build = await api('POST', '/apps/scale/builds', await readFile(src));
for (;;) {
  const b = await api('GET', `/apps/scale/builds/${build.id}`);
  if (b.status === 'failed') throw new Error(b.error);
  if (b.release) break;
  await new Promise((r) => setTimeout(r, 100));
}
const startMs = await timeScale(bench, 'scale', n);
console.log(`${n} web dynos up and routed in ${(startMs / 1000).toFixed(2)} s (target ≤ 10 s)`);

await new Promise((r) => setTimeout(r, 2000)); // let start-up work settle
const cpu0 = process.cpuUsage();
const w0 = performance.now();
await new Promise((r) => setTimeout(r, idleSeconds * 1000));
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - w0;
const mem = process.memoryUsage();
console.log(
  `platform process at idle with ${n} dynos: CPU ${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(2)} % of one core over ${idleSeconds} s, RSS ${(mem.rss / 1048576).toFixed(1)} MB, heap ${(mem.heapUsed / 1048576).toFixed(1)} MB`,
);
const t1 = performance.now();
await bench.stop();
console.log(`stopped ${n} dynos and the platform in ${((performance.now() - t1) / 1000).toFixed(2)} s`);
