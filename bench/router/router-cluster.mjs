// Slipway's router with N worker processes (node:cluster) sharing one port, routing
// app.example.test to one backend.
// With a certificate, each worker also listens for HTTPS (the pair is the default certificate).
// With SLIPWAY_BENCH_LOG=<file>, every worker appends its per-request log lines there.
// With SLIPWAY_BENCH_RULES=1, the router gets a kernel with the platform's route-rule plugins
// (maintenance, HTTPS policy, ACME challenges; none active), as `slipway start` runs it.
// Usage: node router-cluster.mjs <port> <backendPort> <workers> [keepalive|close] [cert key httpsPort]
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { createRouter } from '../../packages/router/dist/index.js';
import { bufferedLog, platformRulesKernel } from './bench-lib.mjs';

const [port, backendPort, workers] = process.argv.slice(2, 5).map(Number);
const keepAlive = process.argv[5] !== 'close';
const [certFile, keyFile, httpsPort] = process.argv.slice(6, 9);

if (cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < workers; i++)
    cluster.fork().on('message', (m) => {
      if (m === 'ready' && ++ready === workers) console.log(`ready ${port}`);
    });
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.kill();
    process.exit(0);
  });
} else {
  const route = {
    app: 'app',
    state: 'ok',
    targets: [{ dyno: 'web.1', host: '127.0.0.1', port: backendPort }],
  };
  const table = { appForHost: () => undefined, route: (app) => (app === 'app' ? route : undefined) };
  const kernel =
    process.env.SLIPWAY_BENCH_RULES === '1'
      ? await platformRulesKernel(fileURLToPath(new URL('../..', import.meta.url)))
      : undefined;
  // Heroku's per-dyno caps would turn 200 connections to one dyno into H11s; nginx has none.
  const router = createRouter({
    table,
    baseDomain: 'example.test',
    limits: { inFlightPerDyno: 100_000, backlogPerDyno: 1 },
    maxIdleSocketsPerDyno: 512,
    ...(process.env.SLIPWAY_BENCH_LOG ? { log: bufferedLog(process.env.SLIPWAY_BENCH_LOG) } : {}),
    upstreamKeepAlive: keepAlive,
    ...(kernel ? { kernel } : {}),
    ...(certFile
      ? { tls: { certificates: [{ cert: certFile, key: keyFile, domains: ['app.example.test'] }] } }
      : {}),
  });
  await router.listen(port, '127.0.0.1');
  if (certFile) await router.listenTls(Number(httpsPort), '127.0.0.1');
  process.send('ready');
}
