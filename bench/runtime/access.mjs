#!/usr/bin/env node
// Benchmark: what the accounts gate costs per API request. The same SQLite state behind two API
// servers, one without accounts (the platform token only, as before) and one with the gate;
// sequential keep-alive GETs of an app route, rounds interleaved so machine load hits both.
// Also the time of one sign-in (scrypt). Loopback only, bounded in count.
// Usage: node bench/runtime/access.mjs [requests=2000]     (after `npx tsc -b packages/runtime`)
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessGate, createApiServer, hashPassword, SqliteStateStore } from '@slipway/runtime';

const total = Number(process.argv[2] ?? 2000);
const dir = await mkdtemp(join(tmpdir(), 'slipway-bench-access-'));
const state = new SqliteStateStore(join(dir, 'state.db'));
const platformToken = state.createToken('bench').token;
const ctx = {
  state,
  logs: {},
  dynos: {},
  releases: {},
  deploys: {},
  addons: {},
  dataDir: dir,
  webUrl: (a) => a,
};
const plain = createApiServer(ctx);
const access = new AccessGate({ state });
const gated = createApiServer({ ...ctx, access });
const owner = access.store.createUser('owner@bench.test', await hashPassword('owner password'), {
  owner: true,
});
const user = access.store.createUser('user@bench.test', await hashPassword('user password'));
state.createApp('bench');
const app = state.app('bench');
access.store.addCollaborator(app.id, 'bench', 'user@bench.test');
const userToken = access.store.createToken(user.id, 'bench').token;
const { sid } = access.store.createSession(owner.id);
const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)));
const ports = { plain: await listen(plain), gated: await listen(gated) };
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const get = (port, headers) =>
  new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/apps/bench/config-vars', headers, agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    })
      .on('error', reject)
      .end();
  });
const cases = {
  'no accounts, platform token (before)': [ports.plain, { authorization: `Bearer ${platformToken}` }],
  'gate, platform token (owner)': [ports.gated, { authorization: `Bearer ${platformToken}` }],
  "gate, a collaborator's token": [ports.gated, { authorization: `Bearer ${userToken}` }],
  'gate, session cookie': [ports.gated, { cookie: `slipway_session=${sid}` }],
};
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
try {
  const rounds = 20;
  for (let r = 0; r < rounds; r++)
    for (const [name, [port, headers]] of Object.entries(cases))
      for (let i = 0; i < total / rounds; i++) {
        const t = performance.now();
        await get(port, headers);
        times[name].push(performance.now() - t);
      }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const p99 = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length * 0.99)];
  const base = median(times['no accounts, platform token (before)']);
  console.log(`GET /apps/:app/config-vars, ${total} requests per case (median / p99, ratio to before):`);
  for (const [name, xs] of Object.entries(times))
    console.log(
      `  ${name.padEnd(38)} ${median(xs).toFixed(3)} ms / ${p99(xs).toFixed(3)} ms  x${(median(xs) / base).toFixed(2)}`,
    );
  const t = performance.now();
  await hashPassword('a sign-in costs one scrypt');
  console.log(`  one scrypt hash (a sign-in)             ${(performance.now() - t).toFixed(0)} ms`);
} finally {
  agent.destroy();
  plain.close();
  gated.close();
  state.close();
  await rm(dir, { recursive: true, force: true });
}
