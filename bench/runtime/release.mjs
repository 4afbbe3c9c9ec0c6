#!/usr/bin/env node
// Benchmark: time from a finished build to the new release serving, for the Node example.
// "Finished build" = the slug is stored and release vN is created (its `Release vN created`
// log line); "serving" = the first answer through the router that comes from the new build
// (its `builtAt` changes). Runs the real platform in-process with the Node.js buildpack only.
// Usage: node bench/runtime/release.mjs [deploys=5]     (after `npx tsc -b packages/runtime`)
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packDir, startPlatform } from '@slipway/runtime';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const deploys = Number(process.argv[2] ?? 5);
const dir = await mkdtemp(join(tmpdir(), 'slipway-bench-release-'));
await chmod(dir, 0o755);
const config = join(dir, 'slipway.config.json');
await writeFile(config, JSON.stringify({ plugins: [join(ROOT, 'packages/buildpacks/nodejs')] }));
const p = await startPlatform({ dataDir: join(dir, 'data'), routerPort: 0, apiPort: 0, configFile: config });

const api = async (method, path, body) => {
  const r = await fetch(new URL(path, p.apiUrl), {
    method,
    headers: { authorization: `Bearer ${p.token}` },
    ...(body ? { body, duplex: 'half' } : {}),
  });
  return r.json();
};
const get = () =>
  new Promise((resolve) => {
    request(
      { host: '127.0.0.1', port: p.routerPort, path: '/', headers: { host: 'bench.localhost' } },
      (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve(res.statusCode === 200 ? t : undefined));
      },
    )
      .on('error', () => resolve(undefined))
      .end();
  });

await api('POST', '/apps', JSON.stringify({ name: 'bench' }));
const tgz = await packDir(join(ROOT, 'examples/apps/node'));
const body = await readFile(tgz);
const figures = [];
for (let i = 0; i <= deploys; i++) {
  const before = await get();
  let created;
  const stop = p.logs.subscribe('bench', (l) => {
    if (/^Release v\d+ created/.test(l.message)) created = performance.now();
    if (process.env.BENCH_VERBOSE && created)
      console.log(`  +${(performance.now() - created).toFixed(0)} ms ${l.source}[${l.dyno}]: ${l.message}`);
  });
  const build = await api('POST', '/apps/bench/builds', body);
  // Poll the router as a client would until the answer comes from the new build.
  let served;
  for (;;) {
    const now = await get();
    if (created !== undefined && now !== undefined && now !== before) {
      served = performance.now();
      break;
    }
    const b = await api('GET', `/apps/bench/builds/${build.id}`);
    if (b.status === 'failed') throw new Error(`build failed: ${b.error}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  stop();
  // The first deploy boots from nothing; the later ones replace a running release.
  if (i > 0) figures.push(served - created);
  console.log(
    `deploy ${i}: build finished → new release serving in ${(served - created).toFixed(0)} ms${i === 0 ? ' (first deploy, not counted)' : ''}`,
  );
  await new Promise((r) => setTimeout(r, 1100)); // builtAt has 1 s resolution in the example
}
figures.sort((a, b) => a - b);
console.log(
  `build finished → new release serving (Node example, ${figures.length} deploys): median ${figures[Math.floor(figures.length / 2)].toFixed(0)} ms, max ${figures.at(-1).toFixed(0)} ms (target ≤ 2000 ms)`,
);
await p.stop();
await rm(dir, { recursive: true, force: true });
