// One router for the route-rules benchmark: the Node router or the HAProxy data plane (one
// thread), routing app.example.test to the backend, with or without route rules that every
// request walks through (a canary by header and cookie, a path rule, an HSTS-like edit).
// Usage: node server.mjs <node|haproxy> <none|rules> <port> <backendPort>
import { Kernel } from '../../packages/core/dist/index.js';
import { createHaproxyRouter, createRouter, maintenancePlugin } from '../../packages/router/dist/index.js';

const [plane, rules] = process.argv.slice(2, 4);
const [port, backendPort] = process.argv.slice(4, 6).map(Number);
const target = (app) => ({
  app,
  state: 'ok',
  targets: [{ dyno: 'web.1', host: '127.0.0.1', port: backendPort }],
});
const table = {
  appForHost: () => undefined,
  route: (app) => (app === 'app' || app === 'app-canary' ? target(app) : undefined),
  apps: () => ['app', 'app-canary'],
  domains: () => [],
};
const kernel = new Kernel();
if (rules === 'rules') {
  await kernel.use(maintenancePlugin, { state: { isInMaintenance: () => false } });
  const to = { kind: 'app', app: 'app-canary' };
  const list = [
    { match: { header: { name: 'x-canary', value: '1' } }, action: to },
    {
      match: { header: { name: 'x-canary', absent: true }, cookie: { name: 'canary', value: '1' } },
      action: to,
    },
    {
      match: { pathPrefix: '/.well-known/acme-challenge/abc' },
      action: { kind: 'respond', status: 200, body: 'abc.x' },
    },
    { match: { protocol: 'http' }, action: { kind: 'edit', responseHeaders: { 'X-Frame-Options': 'DENY' } } },
  ];
  await kernel.use({
    name: 'bench-rules',
    register: (reg) =>
      reg.hooks.routeRules.tap('bench-rules', (r, ctx) => (ctx.app === 'app' ? [...r, ...list] : r)),
  });
}
const log = { write() {} };
const router =
  plane === 'haproxy'
    ? createHaproxyRouter({ table, baseDomain: 'example.test', kernel, log, threads: 1 })
    : createRouter({ table, baseDomain: 'example.test', kernel, log });
await router.listen(port, '127.0.0.1');
if (plane === 'haproxy') await router.sync();
console.log(`ready ${port}`);
process.on('SIGTERM', async () => {
  await router.close();
  process.exit(0);
});
