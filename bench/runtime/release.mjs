#!/usr/bin/env node
// Benchmark: time from a finished build to the new release serving, for the Node example.
// "Finished build" = the slug is stored and release vN is created (its `Release vN created`
// log line); "serving" = the router sends requests only to web dynos of vN and one answers 200.
// Runs the real platform in-process with the Node.js buildpack only.
// Usage: node bench/runtime/release.mjs [deploys=5]     (after `npx tsc -b packages/runtime`)
import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

try {
  await api('POST', '/apps', JSON.stringify({ name: 'bench' }));
  // A copy of the example with one changed file per deploy, so every deploy ships a new slug
  // (identical builds are content-addressed to the same slug, whose unpacked copy is reused).
  const app = join(dir, 'node');
  await cp(join(ROOT, 'examples/apps/node'), app, {
    recursive: true,
    filter: (f) => !f.includes('node_modules'),
  });
  const figures = [];
  for (let i = 0; i <= deploys; i++) {
    let created;
    let version;
    const stop = p.logs.subscribe('bench', (l) => {
      const m = /^Release v(\d+) created/.exec(l.message);
      if (m) {
        created = performance.now();
        version = Number(m[1]);
      }
      if (process.env.BENCH_VERBOSE && created)
        console.log(`  +${(performance.now() - created).toFixed(0)} ms ${l.source}[${l.dyno}]: ${l.message}`);
    });
    await writeFile(join(app, 'BENCH_NONCE'), `${i} ${Date.now()}`);
    const build = await api('POST', '/apps/bench/builds', await readFile(await packDir(app)));
    const table = p.dynos.routeTable();
    let served;
    for (;;) {
      if (version !== undefined) {
        const mine = new Set(
          p.dynos
            .status('bench')
            .filter((d) => d.release === version)
            .map((d) => d.port),
        );
        const targets = table.route('bench')?.targets ?? [];
        if (targets.length && targets.every((t) => mine.has(t.port)) && (await get()) !== undefined) {
          served = performance.now();
          break;
        }
      }
      const b = await api('GET', `/apps/bench/builds/${build.id}`);
      if (b.status === 'failed' || (b.status === 'succeeded' && !b.release))
        throw new Error(`deploy failed: ${b.error}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    stop();
    // The first deploy boots from nothing; the later ones replace a running release.
    if (i > 0) figures.push(served - created);
    console.log(
      `deploy ${i}: build finished → new release serving in ${(served - created).toFixed(0)} ms${i === 0 ? ' (first deploy, not counted)' : ''}`,
    );
  }
  figures.sort((a, b) => a - b);
  console.log(
    `build finished → new release serving (Node example, ${figures.length} deploys): median ${figures[Math.floor(figures.length / 2)].toFixed(0)} ms, max ${figures.at(-1).toFixed(0)} ms (target ≤ 2000 ms)`,
  );
} finally {
  await p.stop();
  await rm(dir, { recursive: true, force: true });
}
