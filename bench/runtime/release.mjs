#!/usr/bin/env node
// Benchmark: time from a finished build to the new release serving, for the Node example.
// "Finished build" = the slug is stored and release vN is created (its `Release vN created`
// log line); "serving" = the router sends requests only to web dynos of vN and one answers 200.
// Runs the real platform in-process with the Node.js buildpack only, on the default dyno runtime
// or the one named (`docker`: each deploy makes a slug image; the Node.js the slug carries is a
// shared image layer made once, unless SLIPWAY_SHARED_RUNTIMES=off, the baseline).
// Usage: node bench/runtime/release.mjs [deploys=5] [runtime]   (after `npx tsc -b packages/runtime`)
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { benchPlatform, ROOT, removeSlugImages, timeDeployToServing } from './bench-lib.mjs';

const deploys = Number(process.argv[2] ?? 5);
const runtime = process.argv[3];
const bench = await benchPlatform('release', runtime ? { runtime } : {});

try {
  await bench.api('POST', '/apps', { name: 'bench' });
  // A copy of the example with one changed file per deploy, so every deploy ships a new slug.
  const app = join(bench.dir, 'node');
  await cp(join(ROOT, 'examples/apps/node'), app, {
    recursive: true,
    filter: (f) => !f.includes('node_modules'),
  });
  const verbose = process.env.BENCH_VERBOSE
    ? (l, ms) => console.log(`  +${ms.toFixed(0)} ms ${l.source}[${l.dyno}]: ${l.message}`)
    : undefined;
  const figures = [];
  for (let i = 0; i <= deploys; i++) {
    const ms = await timeDeployToServing(bench, 'bench', app, 'BENCH_NONCE', verbose);
    // The first deploy boots from nothing; the later ones replace a running release.
    if (i > 0) figures.push(ms);
    console.log(
      `deploy ${i}: build finished → new release serving in ${ms.toFixed(0)} ms${i === 0 ? ' (first deploy, not counted)' : ''}`,
    );
  }
  figures.sort((a, b) => a - b);
  console.log(
    `build finished → new release serving (Node example, ${runtime ?? 'default'} runtime, ${figures.length} deploys): median ${figures[Math.floor(figures.length / 2)].toFixed(0)} ms, max ${figures.at(-1).toFixed(0)} ms (target ≤ 2000 ms)`,
  );
} finally {
  await bench.stop();
  if (runtime === 'docker') await removeSlugImages(join(bench.dir, 'data'));
}
