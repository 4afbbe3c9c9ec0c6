// Slipway's HAProxy data plane (createHaproxyRouter) with N HAProxy threads, routing
// app.example.test to one backend; its per-request log lines (through the log ring and the
// Node log sink) are written to a file, as the other proxies' logs are.
// Usage: node haproxy-dataplane.mjs <port> <backendPort> <threads> <logFile>
import { createHaproxyRouter } from '../../packages/router/dist/index.js';
import { bufferedLog } from './bench-lib.mjs';

const [port, backendPort, threads] = process.argv.slice(2, 5).map(Number);
const route = {
  app: 'app',
  state: 'ok',
  targets: [{ dyno: 'web.1', host: '127.0.0.1', port: backendPort }],
};
const table = {
  appForHost: () => undefined,
  route: (app) => (app === 'app' ? route : undefined),
  apps: () => ['app'],
  domains: () => [],
};
const router = createHaproxyRouter({
  table,
  baseDomain: 'example.test',
  threads,
  log: bufferedLog(process.argv[5]),
});
await router.listen(port, '127.0.0.1');
console.log(`ready ${port}`);
process.on('SIGTERM', async () => {
  await router.close();
  process.exit(0);
});
