#!/usr/bin/env node
// CPU per routing decision of the Node router (`routeRequest`: guard, Host, request id, route
// rules and `route` taps), in process, without sockets: the part of a request's cost that route
// plugins add, measured steadily even on a loaded machine (wrk's figures move with the load).
// Runs it without a kernel and with the route-rule plugins `slipway start` installs (maintenance,
// HTTPS policy, ACME challenges; none active), median of 5 runs each.
//
//   node bench/router/routing-cost.mjs [--requests 300000] [--checkout DIR]
//
// --checkout measures another built checkout of the repository (e.g. a `git worktree` of an
// earlier commit) with the same requests, to compare.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { platformRulesKernel } from './bench-lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const root = resolve(arg('checkout', join(dirname(fileURLToPath(import.meta.url)), '../..')));
const n = Number(arg('requests', '300000'));
const dist = (pkg, file) => import(join(root, 'packages', pkg, 'dist', file));
const { routeRequest } = await dist('router', 'routing.js');
const router = await dist('router', 'index.js');

const kernel = await platformRulesKernel(root);
// The kept rules (route-rules-cache.ts), in checkouts that have them.
const cacheModule = await dist('router', 'route-rules-cache.js').catch(() => undefined);
const rules = cacheModule
  ? new cacheModule.RuleCache({
      rules: kernel.hooks.routeRules,
      changed: kernel.hooks.routeRulesChanged,
      onError: () => {},
    })
  : undefined;
const route = { app: 'app', state: 'ok', targets: [] };
const base = {
  table: { appForHost: () => undefined, route: (a) => (a === 'app' ? route : undefined) },
  baseDomain: 'example.test',
  limits: router.DEFAULT_LIMITS,
  timeouts: router.DEFAULT_TIMEOUTS,
  onError: (e) => console.error(String(e)),
};
// What wrk sends.
const req = {
  method: 'GET',
  url: '/',
  httpVersion: '1.1',
  rawHeaders: ['Host', 'app.example.test', 'Connection', 'keep-alive'],
  headers: { host: 'app.example.test', connection: 'keep-alive' },
  socket: { remoteAddress: '127.0.0.1' },
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const measure = (ctx) => {
  const runs = [];
  for (let r = 0; r < 6; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) routeRequest(ctx, req, 'http');
    const d = process.cpuUsage(t0);
    if (r > 0) runs.push(((d.user + d.system) * 1000) / n); // the first run warms up
  }
  return median(runs);
};
const bare = measure({ ...base });
const plugins = measure({
  ...base,
  routeHook: kernel.hooks.route,
  rulesHook: kernel.hooks.routeRules,
  ...(rules ? { rules } : {}),
});
console.log(`routing cost of ${root} (${n} requests a run, median of 5 runs):`);
console.log(`  no kernel:                     ${bare.toFixed(0)} ns/request`);
console.log(
  `  the platform's route plugins:  ${plugins.toFixed(0)} ns/request (+${(plugins - bare).toFixed(0)} ns)`,
);
