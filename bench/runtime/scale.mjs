#!/usr/bin/env node
// Benchmark: `ps:scale web=100` through the platform API (the whole stack: API, release
// service, dyno manager, local runtime, router), time until all 100 web dynos are up and
// routed, then the platform process's CPU and memory at idle with them running.
// (bench/runtime/dynos.mjs measures the dyno manager alone.)
// Usage: node bench/runtime/scale.mjs [dynos=100] [idleSeconds=10]   (after `npx tsc -b packages/runtime`)
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packDir, startPlatform } from '@slipway/runtime';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const n = Number(process.argv[2] ?? 100);
const idleSeconds = Number(process.argv[3] ?? 10);
const dir = await mkdtemp(join(tmpdir(), 'slipway-bench-scale-'));
await chmod(dir, 0o755);
const config = join(dir, 'slipway.config.json');
await writeFile(config, JSON.stringify({ plugins: [join(ROOT, 'packages/buildpacks/nodejs')] }));
const p = await startPlatform({ dataDir: join(dir, 'data'), routerPort: 0, apiPort: 0, configFile: config });
const api = async (method, path, body) => {
  const r = await fetch(new URL(path, p.apiUrl), {
    method,
    headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
    ...(body ? { body, duplex: 'half' } : {}),
  });
  const j = await r.json();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${j.message}`);
  return j;
};

await api('POST', '/apps', JSON.stringify({ name: 'scale' }));
const src = await packDir(join(ROOT, 'packages/runtime/test/fixtures/hello'));
const build = await api('POST', '/apps/scale/builds', await readFile(src));
for (;;) {
  const b = await api('GET', `/apps/scale/builds/${build.id}`);
  if (b.status === 'failed') throw new Error(b.error);
  if (b.release) break;
  await new Promise((r) => setTimeout(r, 100));
}
const t0 = performance.now();
await api('PATCH', '/apps/scale/formation', JSON.stringify({ updates: [{ type: 'web', quantity: n }] }));
for (;;) {
  const up = (await api('GET', '/apps/scale/dynos')).filter((d) => d.state === 'up').length;
  if (up >= n) break;
  await new Promise((r) => setTimeout(r, 50));
}
const startMs = performance.now() - t0;
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
await p.stop();
console.log(`stopped ${n} dynos and the platform in ${((performance.now() - t1) / 1000).toFixed(2)} s`);
await rm(dir, { recursive: true, force: true });
