#!/usr/bin/env node
// HTTPS benchmark, in one run: the same backend through Slipway's router over HTTP and over
// HTTPS (one process serving both), and through nginx terminating TLS with the same
// certificate chain (ECDSA P-256, made here), each proxy with one worker, keep-alive on both
// sides, at 50 connections (and whatever --connections says), load from wrk. Prints req/s,
// p50, p99, CPU per request and the ratios HTTPS/HTTP and router/nginx.
//
//   node bench/router/https.mjs [--duration 10] [--rounds 1] [--connections 50]
//
// Needs: wrk, nginx and openssl (apt-get install -y wrk nginx-light openssl) and a built router
// and runtime (npx tsc -b packages/router packages/runtime; the certificate chain is made by the
// runtime's test CA helper). nginx runs from a config in a temp dir, not as a service.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, measure, median, startReady, stop, waitPort, which } from './bench-lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const duration = Number(arg('duration', '10'));
const connections = arg('connections', '50').split(',').map(Number);
const rounds = Number(arg('rounds', '1'));
const HOST = 'app.example.test';

const wrk = await which('wrk');
const nginx = (await which('nginx')) ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined);
if (!wrk || !nginx || !(await which('openssl'))) {
  console.error('This benchmark needs wrk, nginx and openssl: apt-get install -y wrk nginx-light openssl');
  process.exit(2);
}
const helper = join(here, '../../packages/runtime/dist/certs/test-certs.test-helper.js');
if (!existsSync(join(here, '../../packages/router/dist/index.js')) || !existsSync(helper)) {
  console.error('Build the router and the runtime first: npx tsc -b packages/router packages/runtime');
  process.exit(2);
}

console.error(
  `HTTPS benchmark: ${cpus().length} CPUs, node ${process.version}, ${duration}s per run, ${rounds} round(s), ` +
    `connections ${connections.join('/')}, load average ${loadavg()[0].toFixed(2)}`,
);
const tmp = mkdtempSync(join(tmpdir(), 'slipway-bench-https-'));
// A chain as a CA hands it out (leaf + intermediate, ECDSA P-256), served by both proxies.
const { TestCa } = await import(helper);
const pair = await (await TestCa.create(tmp)).leaf('bench', [HOST]);
const [cert, key] = [pair.certFile, pair.keyFile];
const samples = [];
const procs = [];
try {
  const backendPort = await freePort();
  procs.push(await startReady(process.execPath, [join(here, 'backend.mjs'), String(backendPort)]));
  const [routerPort, routerTls, nginxTls] = [await freePort(), await freePort(), await freePort()];
  const routerArgs = [
    String(routerPort),
    String(backendPort),
    '1',
    'keepalive',
    cert,
    key,
    String(routerTls),
  ];
  procs.push(await startReady(process.execPath, [join(here, 'router-cluster.mjs'), ...routerArgs]));
  const routerPid = procs.at(-1).pid;
  const conf = readFileSync(join(here, 'nginx.conf.tmpl'), 'utf8')
    .replaceAll('{{WORKERS}}', '1')
    .replaceAll('{{DIR}}', tmp)
    .replaceAll('{{BACKEND}}', String(backendPort))
    .replaceAll('{{PORT}}', String(nginxTls))
    .replaceAll('{{SSL}}', ' ssl')
    .replaceAll('{{SSL_CONF}}', `    ssl_certificate ${cert};\n    ssl_certificate_key ${key};\n`);
  writeFileSync(join(tmp, 'nginx.conf'), conf);
  procs.push(
    spawn(nginx, ['-p', tmp, '-c', join(tmp, 'nginx.conf')], { stdio: ['ignore', 'inherit', 'inherit'] }),
  );
  await waitPort(nginxTls);
  const setups = [
    { label: 'slipway http', url: `http://127.0.0.1:${routerPort}/`, pid: routerPid },
    { label: 'slipway https', url: `https://127.0.0.1:${routerTls}/`, pid: routerPid },
    { label: 'nginx https', url: `https://127.0.0.1:${nginxTls}/`, pid: procs.at(-1).pid },
  ];
  // Rounds interleave the setups so that noise from other load on the machine spreads evenly.
  for (let round = 1; round <= rounds; round++) {
    console.error(`round ${round}/${rounds}`);
    for (const s of setups) samples.push(...(await measure(wrk, s, { connections, duration, host: HOST })));
  }
} finally {
  for (const p of procs.reverse()) await stop(p);
  rmSync(tmp, { recursive: true, force: true });
}

const pick = (label, c, field) =>
  median(samples.filter((x) => x.label === label && x.conns === c).map((x) => x[field]));
console.log(`\nmedians of ${rounds} round(s); load average at the end ${loadavg()[0].toFixed(2)}`);
console.log('\n| setup | conns | req/s | p50 ms | p99 ms | cpu µs/req | errors |');
console.log('|---|---|---|---|---|---|---|');
for (const c of connections)
  for (const label of ['slipway http', 'slipway https', 'nginx https']) {
    const errors = samples
      .filter((x) => x.label === label && x.conns === c)
      .reduce((a, x) => a + x.errors, 0);
    const cells = [label, c, pick(label, c, 'rps').toFixed(0), pick(label, c, 'p50').toFixed(2)];
    cells.push(pick(label, c, 'p99').toFixed(2), pick(label, c, 'cpuPerReq').toFixed(1), errors);
    console.log(`| ${cells.join(' | ')} |`);
  }
console.log(
  '\n| conns | https/http req/s | https/http p99 | router/nginx https req/s | router/nginx https p99 | router/nginx cpu/req |',
);
console.log('|---|---|---|---|---|---|');
for (const c of connections) {
  const r = (a, b, f) => (pick(a, c, f) / pick(b, c, f)).toFixed(2);
  const cells = [c, r('slipway https', 'slipway http', 'rps'), r('slipway https', 'slipway http', 'p99')];
  cells.push(r('slipway https', 'nginx https', 'rps'), r('slipway https', 'nginx https', 'p99'));
  cells.push(r('slipway https', 'nginx https', 'cpuPerReq'));
  console.log(`| ${cells.join(' | ')} |`);
}
