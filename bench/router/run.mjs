#!/usr/bin/env node
// Router benchmark: the same backend (a) directly, (b) through Slipway's Node router, (c)
// through Slipway's HAProxy data plane, (d) through nginx with upstream keep-alive, each proxy
// with the same number of workers (processes for Node and nginx, threads for HAProxy) and
// each writing one log line per request to a file, at 50 and 200 connections, load from wrk.
// Prints req/s, p50, p99, CPU per request and the ratios against direct and nginx.
//
//   node bench/router/run.mjs [--duration 10] [--rounds 1] [--workers 1,2] [--connections 50,200] [--no-keepalive-too] [--no-haproxy]
//
// --no-keepalive-too adds the router with one upstream connection per request (1 worker), to
// measure what the keep-alive pools bring.
//
// Needs: wrk, nginx and haproxy (apt-get install -y wrk nginx-light haproxy) and a built router
// (npx tsc -b packages/router). nginx and haproxy run from configs in temp dirs, not as services.
import { spawn } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, measure as measureWith, median, startReady, stop, waitPort, which } from './bench-lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const duration = Number(arg('duration', '10'));
const workerCounts = arg('workers', '1,2').split(',').map(Number);
const connections = arg('connections', '50,200').split(',').map(Number);
const rounds = Number(arg('rounds', '1'));
const HOST = 'app.example.test';
const measure = (setup) =>
  measureWith(
    wrk,
    { ...setup, url: `http://127.0.0.1:${setup.port}/` },
    { connections, duration, host: HOST },
  );

const wrk = await which('wrk');
const withHaproxy = !process.argv.includes('--no-haproxy');
const haproxy =
  (await which('haproxy')) ?? (existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : undefined);
if (withHaproxy && !haproxy) {
  console.error('This benchmark needs haproxy (apt-get install -y haproxy), or pass --no-haproxy');
  process.exit(2);
}
const nginx = (await which('nginx')) ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined);
if (!wrk || !nginx) {
  console.error('This benchmark needs wrk and nginx: apt-get update && apt-get install -y wrk nginx-light');
  process.exit(2);
}
if (!existsSync(join(here, '../../packages/router/dist/index.js'))) {
  console.error('Build the router first: npx tsc -b packages/router');
  process.exit(2);
}

console.error(
  `router benchmark: ${cpus().length} CPUs, node ${process.version}, ${duration}s per run, ${rounds} round(s), ` +
    `connections ${connections.join('/')}, workers ${workerCounts.join('/')}, load average ${loadavg()[0].toFixed(2)}`,
);
const samples = [];
const procs = [];
const tmp = mkdtempSync(join(tmpdir(), 'slipway-bench-nginx-'));
try {
  const backendPort = await freePort();
  procs.push(await startReady(process.execPath, [join(here, 'backend.mjs'), String(backendPort)]));
  // For `direct` the CPU column is the backend's own cost per request.
  const setups = [{ label: 'direct', port: backendPort, pid: procs[0].pid }];
  for (const w of workerCounts) {
    const routerPort = await freePort();
    const args = [join(here, 'router-cluster.mjs'), String(routerPort), String(backendPort), String(w)];
    process.env.SLIPWAY_BENCH_LOG = join(tmp, `node-w${w}.log`);
    procs.push(await startReady(process.execPath, args));
    setups.push({ label: `node w${w}`, port: routerPort, pid: procs.at(-1).pid });
    if (withHaproxy) {
      const port = await freePort();
      const log = join(tmp, `haproxy-w${w}.log`);
      const hargs = [join(here, 'haproxy-dataplane.mjs'), String(port), String(backendPort), String(w), log];
      procs.push(await startReady(process.execPath, hargs));
      // The CPU column counts haproxy (a child) and the Node log sink together.
      setups.push({ label: `haproxy w${w}`, port, pid: procs.at(-1).pid });
    }
    const nginxPort = await freePort();
    const dir = join(tmp, `w${w}`);
    mkdirSync(dir, { recursive: true });
    const conf = readFileSync(join(here, 'nginx.conf.tmpl'), 'utf8')
      .replaceAll('{{WORKERS}}', String(w))
      .replaceAll('{{DIR}}', dir)
      .replaceAll('{{BACKEND}}', String(backendPort))
      .replaceAll('{{PORT}}', String(nginxPort))
      .replaceAll('{{SSL}}', '')
      .replaceAll('{{SSL_CONF}}', '');
    writeFileSync(join(dir, 'nginx.conf'), conf);
    procs.push(
      spawn(nginx, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'inherit', 'inherit'] }),
    );
    await waitPort(nginxPort);
    setups.push({ label: `nginx w${w}`, port: nginxPort, pid: procs.at(-1).pid });
  }
  if (process.argv.includes('--no-keepalive-too')) {
    const port = await freePort();
    const args = [join(here, 'router-cluster.mjs'), String(port), String(backendPort), '1', 'close'];
    procs.push(await startReady(process.execPath, args));
    setups.push({ label: 'node w1 no-ka', port, pid: procs.at(-1).pid });
  }
  // Rounds interleave the setups so that noise from other load on the machine spreads evenly.
  for (let round = 1; round <= rounds; round++) {
    console.error(`round ${round}/${rounds}`);
    for (const s of setups) samples.push(...(await measure(s)).map((x) => ({ ...x, round })));
  }
} finally {
  for (const p of procs.reverse()) await stop(p);
  // Every proxy logged: say how many lines each wrote.
  for (const f of readdirSync(tmp, { recursive: true }).filter((n) => String(n).endsWith('.log'))) {
    // Counted by chunk: five rounds of logs pass the longest string V8 can hold.
    let lines = 0;
    for await (const chunk of createReadStream(join(tmp, String(f))))
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    if (lines > 0) console.error(`  log ${f}: ${lines} lines`);
  }
  rmSync(tmp, { recursive: true, force: true });
}

const results = [];
for (const s of samples) {
  if (results.some((r) => r.label === s.label && r.conns === s.conns)) continue;
  const same = samples.filter((x) => x.label === s.label && x.conns === s.conns);
  results.push({
    label: s.label,
    conns: s.conns,
    rps: median(same.map((x) => x.rps)),
    p50: median(same.map((x) => x.p50)),
    p99: median(same.map((x) => x.p99)),
    cpuPerReq: median(same.map((x) => x.cpuPerReq)),
    errors: same.reduce((a, x) => a + x.errors, 0),
  });
}
console.log(`\nmedians of ${rounds} round(s); load average at the end ${loadavg()[0].toFixed(2)}`);
const find = (label, c) => results.find((r) => r.label === label && r.conns === c);
console.log(
  '\n| setup | conns | req/s | p50 ms | p99 ms | cpu µs/req | vs direct req/s | added p99 ms | vs nginx req/s | vs nginx cpu/req |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const direct = find('direct', r.conns);
  const w = /^(?:node|haproxy) w(\d+)$/.exec(r.label)?.[1];
  const ngx = w ? find(`nginx w${w}`, r.conns) : undefined;
  const cells = [
    r.label,
    r.conns,
    r.rps.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.cpuPerReq.toFixed(1),
    (r.rps / direct.rps).toFixed(2),
    (r.p99 - direct.p99).toFixed(2),
    ngx ? (r.rps / ngx.rps).toFixed(2) : '',
    ngx ? (r.cpuPerReq / ngx.cpuPerReq).toFixed(2) : '',
  ];
  console.log(`| ${cells.join(' | ')} |`);
}
const bad = results.filter((r) => r.errors > 0);
if (bad.length)
  console.log(`\nerrors seen in: ${bad.map((r) => `${r.label} c=${r.conns} (${r.errors})`).join(', ')}`);

// Added p99, paired by round: each setup's p99 minus direct's p99 of the same round (the
// machine's load moves both), then the median and range over the rounds.
const fmt = (v) => (v >= 0 ? '+' : '') + v.toFixed(2);
for (const c of connections) {
  console.log(
    `\nadded p99 at ${c} connections (p99 − direct p99 of the same round), median [min, max] of ${rounds}:`,
  );
  for (const r of results.filter((x) => x.conns === c && x.label !== 'direct')) {
    const diffs = [];
    for (let round = 1; round <= rounds; round++) {
      const mine = samples.find((x) => x.label === r.label && x.conns === c && x.round === round);
      const direct = samples.find((x) => x.label === 'direct' && x.conns === c && x.round === round);
      if (mine && direct) diffs.push(mine.p99 - direct.p99);
    }
    const goal = r.label.startsWith('haproxy') ? '  (goal: ≤ +1 ms)' : '';
    console.log(
      `  ${r.label.padEnd(14)} ${fmt(median(diffs))} ms [${fmt(Math.min(...diffs))}, ${fmt(Math.max(...diffs))}]${goal}`,
    );
  }
  for (const w of workerCounts) {
    const h = find(`haproxy w${w}`, c);
    const n = find(`nginx w${w}`, c);
    if (h && n)
      console.log(`  haproxy w${w} / nginx w${w} req/s: ${(h.rps / n.rps).toFixed(2)} (goal: ≥ 0.8)`);
  }
}
