// What route rules cost per request on each data plane: the same router with no rules and
// with four rules every request walks through (wrk, keep-alive, loopback only; CPU per request
// of the router's process tree is the figure that holds on a shared machine).
// Usage: node bench/route-rules/run.mjs [--duration 5] [--connections 50]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, measure, startReady, stop, waitPort } from '../router/bench-lib.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const duration = Number(arg('duration', '5'));
const connections = [Number(arg('connections', '50'))];
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const wrk = execFileSync('sh', ['-c', 'command -v wrk']).toString().trim();
const backendPort = await freePort();
const backend = await startReady('node', [here('../router/backend.mjs'), String(backendPort)]);
const rows = [];
try {
  for (const plane of ['node', 'haproxy'])
    for (const rules of ['none', 'rules']) {
      const port = await freePort();
      const proc = await startReady('node', [
        here('server.mjs'),
        plane,
        rules,
        String(port),
        String(backendPort),
      ]);
      await waitPort(port);
      try {
        rows.push(
          ...(await measure(
            wrk,
            { label: `${plane} ${rules}`, url: `http://127.0.0.1:${port}/`, pid: proc.pid },
            {
              connections,
              duration,
              host: 'app.example.test',
            },
          )),
        );
      } finally {
        await stop(proc);
      }
    }
} finally {
  await stop(backend);
}
for (const plane of ['node', 'haproxy']) {
  const [a, b] = ['none', 'rules'].map((r) => rows.find((x) => x.label === `${plane} ${r}`));
  console.log(
    `${plane}: rules/none req/s ${(b.rps / a.rps).toFixed(2)}x, CPU per request ${a.cpuPerReq.toFixed(1)} -> ${b.cpuPerReq.toFixed(1)} µs (${(b.cpuPerReq / a.cpuPerReq).toFixed(2)}x), p99 ${a.p99.toFixed(2)} -> ${b.p99.toFixed(2)} ms`,
  );
}
