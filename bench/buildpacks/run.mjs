#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure, median } from './measure.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1' },
    only: { type: 'string' },
    json: { type: 'string' },
  },
});
const rounds = Math.max(1, Number(values.rounds));
const BUILDPACK = { node: 'nodejs', python: 'python', java: 'java', go: 'go' };

/** Append a comment to one source file of the app, as a code change that keeps the dependencies. */
async function editSource(lang, dir) {
  const { appendFile, readdir } = await import('node:fs/promises');
  const find = async (d, ext) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && !['node_modules', 'target', 'bin', '.venv'].includes(e.name)) {
        const hit = await find(p, ext);
        if (hit) return hit;
      } else if (e.isFile() && e.name.endsWith(ext)) return p;
    }
    return undefined;
  };
  const ext = { node: '.js', python: '.py', java: '.java', go: '.go' }[lang];
  const file = await find(dir, ext);
  if (file) await appendFile(file, `${lang === 'python' ? '#' : '//'} edited by the benchmark\n`);
}

const s = (x) => (Number.isNaN(x) ? 'n/a' : `${x.toFixed(2)} s`);
const pct = (x) => (Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(1)} %`);
const times = (x) => (Number.isNaN(x) ? 'n/a' : `${x.toFixed(1)}x`);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const langs = values.only ? values.only.split(',') : Object.keys(BUILDPACK);
const results = [];
console.log(`buildpack benchmark: ${rounds} round(s), ${cpus().length} CPUs, load average ${load()}`);
for (const lang of langs) {
  const buildpack = BUILDPACK[lang];
  const source = join(root, 'examples/apps', lang);
  if (!buildpack || !existsSync(source)) {
    console.log(`${lang}: skipped (no examples/apps/${lang})`);
    continue;
  }
  if (!existsSync(join(root, 'packages/buildpacks', buildpack, 'dist/index.js'))) {
    console.log(`${lang}: skipped (packages/buildpacks/${buildpack} is not built)`);
    continue;
  }
  const m = {
    cold: [],
    coldCpu: [],
    raw: [],
    rawCpu: [],
    warm: [],
    warmCpu: [],
    coldSlug: [],
    coldIn: [],
    rawIn: [],
    warmIn: [],
    warmCompile: [],
    coldCompile: [],
    edit: [],
    editCpu: [],
    editIn: [],
  };
  /** The raw commands on a fresh copy of the app with empty caches. */
  const measureRaw = async (work) => {
    const copy = await mkdtemp(join(work, 'raw-app-'));
    await cp(source, copy, { recursive: true });
    return measure(['raw', lang, copy, await mkdtemp(join(work, 'raw-cache-'))], work);
  };
  // One uncounted raw run first: whatever sits between us and the registry (a proxy, the OS's
  // page cache) is then equally warm for every measured step, whichever runs first.
  const warmup = await mkdtemp(join(tmpdir(), `slipway-bench-${lang}-warmup-`));
  try {
    await measureRaw(warmup);
  } finally {
    await rm(warmup, { recursive: true, force: true });
  }
  for (let i = 0; i < rounds; i++) {
    const work = await mkdtemp(join(tmpdir(), `slipway-bench-${lang}-`));
    try {
      const cacheDir = join(work, 'cache');
      // Cold and raw swap places every round, so neither always meets the warmer network path.
      const rawFirst = i % 2 === 1 ? await measureRaw(work) : undefined;
      const cold = await measure(['build', buildpack, source, cacheDir, work], work);
      const raw = rawFirst ?? (await measureRaw(work));
      const warm = await measure(['build', buildpack, source, cacheDir, work], work);
      // The usual rebuild: the code changed, the dependencies did not.
      const edited = join(work, 'edited-app');
      await cp(source, edited, { recursive: true });
      await editSource(lang, edited);
      const edit = await measure(['build', buildpack, edited, cacheDir, work], work);
      m.edit.push(edit.wall);
      m.editCpu.push(edit.cpu);
      m.editIn.push(edit.info.total / 1000);
      m.cold.push(cold.wall);
      m.coldCpu.push(cold.cpu);
      m.coldSlug.push(cold.info.slug / 1000);
      m.raw.push(raw.wall);
      m.rawCpu.push(raw.cpu);
      m.warm.push(warm.wall);
      m.warmCpu.push(warm.cpu);
      m.warmCompile.push(warm.info.compile[buildpack] / 1000);
      m.coldIn.push(cold.info.total / 1000);
      m.coldCompile.push(cold.info.compile[buildpack] / 1000);
      m.rawIn.push(raw.info.total / 1000);
      m.warmIn.push(warm.info.total / 1000);
      console.log(
        `  ${lang} round ${i + 1} (${rawFirst ? 'raw' : 'cold'} first): cold ${s(cold.wall)} (cpu ${s(cold.cpu)}, slug ${s(cold.info.slug / 1000)}), ` +
          `raw ${s(raw.wall)} (cpu ${s(raw.cpu)}), warm ${s(warm.wall)} (cpu ${s(warm.cpu)}, compile ${s(warm.info.compile[buildpack] / 1000)}); load ${load()}`,
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  const r = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, median(v)]));
  r.lang = lang;
  r.overhead = (r.cold - r.raw) / r.cold;
  r.overheadCpu = (r.coldCpu - r.rawCpu) / r.coldCpu;
  r.speedup = r.cold / r.warm;
  r.speedupCpu = r.coldCpu / r.warmCpu;
  r.overheadIn = (r.coldIn - r.rawIn) / r.coldIn;
  r.speedupIn = r.coldIn / r.warmIn;
  r.speedupEdit = r.cold / r.edit;
  results.push(r);
}

console.log(
  '\n| app | cold build | raw commands | overhead wall / cpu (<= 10 %) | warm rebuild | speed-up wall / cpu (>= 5x) |',
);
console.log('|---|---|---|---|---|---|');
for (const r of results)
  console.log(
    `| ${r.lang} | ${s(r.cold)} (cpu ${s(r.coldCpu)}) | ${s(r.raw)} (cpu ${s(r.rawCpu)}) | ${pct(r.overhead)} / ${pct(r.overheadCpu)} | ${s(r.warm)} (cpu ${s(r.warmCpu)}) | ${times(r.speedup)} / ${times(r.speedupCpu)} |`,
  );
console.log('\nRebuild after a source change (dependencies unchanged):');
console.log('| app | cold build | rebuild | speed-up wall / cpu |');
console.log('|---|---|---|---|');
for (const r of results)
  console.log(
    `| ${r.lang} | ${s(r.cold)} | ${s(r.edit)} (cpu ${s(r.editCpu)}) | ${times(r.speedupEdit)} / ${times(r.coldCpu / r.editCpu)} |`,
  );
console.log(
  "\nIn-process (the pipeline alone, without starting Node.js and loading Slipway; the platform's build worker still pays that start-up on each build):",
);
console.log(
  '| app | cold build | of which compile / slug | raw commands | overhead (all / compile only) | warm rebuild | speed-up |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of results)
  console.log(
    `| ${r.lang} | ${s(r.coldIn)} | ${s(r.coldCompile)} / ${s(r.coldSlug)} | ${s(r.rawIn)} | ${pct(r.overheadIn)} / ${pct((r.coldCompile - r.rawIn) / r.coldIn)} | ${s(r.warmIn)} | ${times(r.speedupIn)} |`,
  );
console.log(`load average after: ${load()}`);
if (values.json) {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    values.json,
    `${JSON.stringify({ at: new Date().toISOString(), rounds, results }, null, 2)}\n`,
  );
}
