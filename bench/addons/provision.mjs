// Add-on provisioning figures: a shared-plan Postgres database on a running server (target
// ≤ 300 ms) and a Redis instance until it accepts AUTH (target ≤ 500 ms), plus a mail account.
// Usage: npx tsc -b packages/addons/postgres packages/addons/redis packages/addons/mail
//        node bench/addons/provision.mjs [rounds=20]
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { defineAddon, Kernel } from '../../packages/addon-sdk/dist/index.js';
import { mailDefinition } from '../../packages/addons/mail/dist/index.js';
import { postgresDefinition } from '../../packages/addons/postgres/dist/index.js';
import { redisDefinition } from '../../packages/addons/redis/dist/index.js';

const rounds = Number(process.argv[2] ?? 20);
const quiet = { log: () => {} };

function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(0)} ms, p95 ${q(0.95).toFixed(0)} ms, min ${s[0].toFixed(0)} ms, max ${s[s.length - 1].toFixed(0)} ms (n=${s.length})`;
}

function report(name, ms, target) {
  const med = [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)];
  const verdict = target
    ? med <= target
      ? `within the ${target} ms target`
      : `OVER the ${target} ms target`
    : '';
  console.log(`${name.padEnd(44)} ${stats(ms)} ${verdict}`);
}

async function bench(id, definition, plan, { options = {}, usable, beforeEach } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), `slipway-bench-${id}-`));
  const plugin = defineAddon(definition, quiet);
  const kernel = new Kernel();
  try {
    let t = performance.now();
    await kernel.use(plugin, { dataDir, ...options });
    const setupMs = performance.now() - t;
    const hook = kernel.hooks.provision.for(id);
    const req = (i) => ({ service: id, plan, uuid: `bench-${i}`, app: `bench-${i}`, name: '', options: {} });
    t = performance.now();
    const first = await hook.promise(req('first'));
    await usable?.(first);
    const firstMs = performance.now() - t;
    const provision = [];
    const withUse = [];
    const ids = [];
    for (let i = 0; i < rounds; i++) {
      await beforeEach?.(plugin);
      t = performance.now();
      const r = await hook.promise(req(i));
      provision.push(performance.now() - t);
      await usable?.(r);
      withUse.push(performance.now() - t);
      ids.push(r.id);
    }
    const deprovision = [];
    for (const [i, rid] of ids.entries()) {
      t = performance.now();
      await kernel.hooks.deprovision
        .for(id)
        .promise({ service: id, uuid: `bench-${i}`, app: `bench-${i}`, id: rid });
      deprovision.push(performance.now() - t);
    }
    return { setupMs, firstMs, provision, withUse, deprovision };
  } finally {
    await plugin.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Connect with the app's own DATABASE_URL and run a query: the database is really usable. */
async function pgUsable(r) {
  const c = new pg.Client({ connectionString: r.config.DATABASE_URL });
  await c.connect();
  await c.query('SELECT 1');
  await c.end();
}

/** AUTH with the app's REDIS_URL and PING. */
async function redisUsable(r) {
  const c = new Redis(r.config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await c.connect();
  await c.ping();
  c.disconnect();
}

/** Wait until the provider's spare databases are ready (an add-on created on a quiet platform). */
async function sparesReady(plugin) {
  const state = plugin.hosts[0].ctx.state;
  while ((state.spares?.ready ?? 0) < 2) await new Promise((r) => setTimeout(r, 20));
}

console.log(
  `node ${process.version}, ${rounds} rounds each, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}\n`,
);
const p = await bench('postgres', postgresDefinition, 'shared', {
  usable: pgUsable,
  beforeEach: sparesReady,
});
console.log(`postgres: first provision (initdb + start of the shared cluster) ${p.firstMs.toFixed(0)} ms`);
report('postgres shared (spare ready): provision', p.provision, 300);
report('postgres shared (spare ready): + app query', p.withUse);
report('postgres shared: deprovision', p.deprovision);
const burst = await bench('postgres', postgresDefinition, 'shared', {
  usable: pgUsable,
  options: { spareDatabases: 0 },
});
report('postgres shared (no spares): provision', burst.provision, 300);
report('postgres shared (no spares): + app query', burst.withUse);
const r = await bench('redis', redisDefinition, 'mini', { usable: redisUsable });
report('redis mini: provision (server accepts AUTH)', r.provision, 500);
report('redis mini: + ioredis AUTH and PING', r.withUse, 500);
report('redis mini: deprovision', r.deprovision);
const m = await bench('mail', mailDefinition, 'dev');
console.log(`mail: setup (SMTP endpoint up) ${m.setupMs.toFixed(0)} ms`);
report('mail dev: provision', m.provision);
console.log(
  `\nload average at the end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
