#!/usr/bin/env node
/**
 * What a runtime version chosen per app costs. For each language whose buildpack downloads a
 * runtime (node: engines.node 14.x from the npm registry; go: `// +heroku goVersion go1.25` from
 * the Go module proxy), on the tutorial-shaped fixtures in packages/runtime/test/fixtures/heroku-apps,
 * two variants of the same app:
 *   pinned    as the app is: the runtime is downloaded (first build) and then taken from the cache
 *   platform  the version pin removed, so the platform's own runtime builds it (no download)
 * Per variant: one cold build (empty cache: download + unpack for `pinned`) and `--rounds` warm
 * rebuilds on that cache. The figure that matters is warm(pinned) - warm(platform): what a cached
 * runtime adds to an everyday build. Wall and CPU seconds (CPU counts every child, from
 * /usr/bin/time), medians of the warm rounds.
 *
 *   npx tsc -b packages/buildpacks/nodejs packages/buildpacks/go
 *   node bench/buildpacks/runtimes.mjs [--rounds 3] [--only node,go]
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure, median } from './measure.mjs';

const apps = fileURLToPath(new URL('../../packages/runtime/test/fixtures/heroku-apps/', import.meta.url));
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, only: { type: 'string' } },
});
const rounds = Math.max(1, Number(values.rounds));

/** Per language: the buildpack, the fixture, and how to drop its version pin. */
const LANGS = {
  node: {
    buildpack: 'nodejs',
    fixture: 'express-ts',
    unpin: async (dir) => {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
      delete pkg.engines;
      await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    },
  },
  go: {
    buildpack: 'go',
    fixture: 'go',
    unpin: async (dir) => {
      const mod = await readFile(join(dir, 'go.mod'), 'utf8');
      await writeFile(join(dir, 'go.mod'), mod.replace(/^\/\/ \+heroku goVersion.*\n/m, ''));
    },
  },
};

const fmt = (m) => `${m.wall.toFixed(2)} s (cpu ${m.cpu.toFixed(2)} s)`;
const only = values.only?.split(',');
console.log(
  `# runtime benchmark: ${rounds} warm rounds, ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}`,
);
for (const [lang, spec] of Object.entries(LANGS)) {
  if (only && !only.includes(lang)) continue;
  const work = await mkdtemp(join(tmpdir(), `slipway-bench-runtime-${lang}-`));
  try {
    const result = {};
    for (const variant of ['pinned', 'platform']) {
      const source = join(work, `${variant}-src`);
      await cp(join(apps, spec.fixture), source, { recursive: true });
      if (variant === 'platform') await spec.unpin(source);
      const cacheDir = join(work, `${variant}-cache`);
      const cold = await measure(['build', spec.buildpack, source, cacheDir, work], work);
      const warm = [];
      for (let i = 0; i < rounds; i++)
        warm.push(await measure(['build', spec.buildpack, source, cacheDir, work], work));
      result[variant] = {
        cold,
        warm: {
          wall: median(warm.map((w) => w.wall)),
          cpu: median(warm.map((w) => w.cpu)),
          // In-process phases (ms): the buildpack's compile and core's slug packing.
          compile: median(warm.map((w) => w.info.compile[spec.buildpack])),
          slug: median(warm.map((w) => w.info.slug)),
        },
      };
    }
    const { pinned, platform } = result;
    console.log(
      `${lang}: first build of the pinned runtime ${fmt(pinned.cold)}; with the platform's ${fmt(platform.cold)}`,
    );
    console.log(`${lang}: warm rebuild pinned ${fmt(pinned.warm)}; platform ${fmt(platform.warm)}`);
    console.log(
      `${lang}: of which compile ${((pinned.warm.compile - platform.warm.compile) / 1000).toFixed(2)} s, slug packing ${((pinned.warm.slug - platform.warm.slug) / 1000).toFixed(2)} s (medians, in-process)`,
    );
    console.log(
      `${lang}: a cached runtime adds ${(pinned.warm.wall - platform.warm.wall).toFixed(2)} s wall, ${(pinned.warm.cpu - platform.warm.cpu).toFixed(2)} s cpu to a warm build (load ${loadavg()[0].toFixed(1)})`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
