#!/usr/bin/env node
// Benchmark: builds through the whole platform (API upload → unpack → build worker in the stack
// → slug stored, the build output's `Launching...`; the release after it is not timed), for the
// Node.js and Python examples: a cold build (new app, empty cache), then a warm rebuild (same
// source) on a platform with pre-started build workers off (`prestartBuilds: 0`, each build
// starts its worker) and on (the default), side by side. A rebuild comes 5 s after the last
// build (its release included), as a next push would.
// Usage: node bench/runtime/platform-builds.mjs [rounds=2] [apps=node,python]   (after `npx tsc -b`)
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packDir } from '@slipway/runtime';
import { benchPlatform, ROOT } from './bench-lib.mjs';

const rounds = Number(process.argv[2] ?? 2);
const apps = (process.argv[3] ?? 'node,python').split(',');
const BUILDPACK = { node: 'nodejs', python: 'python' };
const PAUSE_MS = 5000;

/**
 * Upload `archive` as a build of `app`; seconds until its slug is stored (the build output's
 * `Launching...` line, before the release). Returns once the release is done too.
 */
async function timeBuild(bench, app, archive) {
  const t0 = performance.now();
  const b = await bench.api('POST', `/apps/${app}/builds`, archive);
  const r = await fetch(new URL(`/apps/${app}/builds/${b.id}/output`, bench.p.apiUrl), {
    headers: { authorization: `Bearer ${bench.p.token}` },
  });
  let text = '';
  let built;
  for await (const chunk of r.body) {
    text += Buffer.from(chunk).toString();
    if (built === undefined && text.includes('-----> Launching...')) built = (performance.now() - t0) / 1000;
  }
  const s = await bench.api('GET', `/apps/${app}/builds/${b.id}`);
  if (built === undefined) throw new Error(`${app}: ${s.error ?? text.slice(-500)}`);
  return built;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// The examples' buildpacks (benchPlatform's own config has the Node.js one only).
const cfgDir = await mkdtemp(join(tmpdir(), 'slipway-bench-builds-cfg-'));
const configFile = join(cfgDir, 'slipway.config.json');
await writeFile(
  configFile,
  JSON.stringify({
    defaults: false,
    plugins: apps.map((a) => join(ROOT, 'packages/buildpacks', BUILDPACK[a])),
  }),
);
const results = {};
const loads = [];
for (const prestart of [0, 4]) {
  const bench = await benchPlatform(`builds-${prestart}`, { prestartBuilds: prestart, configFile });
  const { api } = bench;
  try {
    for (const app of apps) {
      const archive = await readFile(await packDir(join(ROOT, 'examples/apps', app)));
      for (let r = 0; r < rounds; r++) {
        const name = `${app}-${r}`;
        await api('POST', '/apps', { name });
        const cold = await timeBuild(bench, name, archive);
        await new Promise((res) => setTimeout(res, PAUSE_MS));
        const warm = await timeBuild(bench, name, archive);
        loads.push(loadavg()[0]);
        const k = `${app} ${prestart ? 'pre-started' : 'fresh'}`;
        results[k] ??= { cold: [], warm: [] };
        results[k].cold.push(cold);
        results[k].warm.push(warm);
        console.log(
          `${k} round ${r + 1}: cold ${cold.toFixed(2)} s, warm ${warm.toFixed(2)} s (load ${loadavg()[0].toFixed(1)})`,
        );
      }
    }
  } finally {
    await bench.stop();
  }
}
await rm(cfgDir, { recursive: true, force: true });
console.log(
  `\nmedians of ${rounds} rounds (load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}):`,
);
console.log('| app | build workers | cold build | warm rebuild | cold / warm |');
console.log('|---|---|---|---|---|');
for (const [k, m] of Object.entries(results)) {
  const [app, how] = k.split(' ');
  const c = median(m.cold);
  const w = median(m.warm);
  console.log(`| ${app} | ${how} | ${c.toFixed(2)} s | ${w.toFixed(2)} s | ${(c / w).toFixed(1)}× |`);
}
