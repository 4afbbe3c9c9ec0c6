/**
 * Shared helpers of the router tests (no tests here): real backend servers on loopback, a
 * mutable route table, a router with a recording log sink, and HTTP/raw-socket clients.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Kernel, LogLine } from '@slipway/core';
import { createHaproxyRouter, type HaproxyRouter } from './haproxy/haproxy-router.js';
import type { MaintenanceState } from './maintenance-plugin.js';
import type { AppRoute, RouteTable, RouteTarget } from './route-table.js';
import { createRouter, type Router, type RouterOptions } from './router.js';
import { requireHaproxy } from './test-kit.test-helper.js';

/** The HAProxy suites' guard (other packages import it from `@slipway/router/test-kit`). */
export { requireHaproxy };

/** The data planes the conformance vectors run against. */
export const PLANES = ['node', 'haproxy'] as const;
/** One of PLANES. */
export type Plane = (typeof PLANES)[number];

/**
 * Run the same vectors against each data plane (`describe` once per plane). Without haproxy
 * the HAProxy run fails under CI=true and is skipped, loudly, elsewhere.
 */
export function describePlanes(title: string, body: (plane: Plane) => void): void {
  for (const plane of PLANES)
    describe(`${title} [${plane}]`, () => {
      if (plane === 'haproxy')
        before(async function () {
          await requireHaproxy(this);
        });
      body(plane);
    });
}

/**
 * `it` for a behaviour only some data planes have; on the others the test is listed as
 * pending with the reason, so the gap stays visible in every run.
 */
export function itOn(
  plane: Plane,
  planes: readonly Plane[],
  reason: string,
): (title: string, fn: Mocha.Func | Mocha.AsyncFunc) => void {
  if (planes.includes(plane)) return (title, fn) => it(title, fn);
  return (title, fn) => it.skip(`${title} (not on ${plane}: ${reason})`, fn);
}

/** What the HAProxy data plane takes beyond the Node router's options. */
export interface HaproxyExtras {
  /** Apps in maintenance (the Node router gets it from the maintenance plugin's route tap). */
  maintenance?: MaintenanceState;
}

/** HAProxy routers of the running tests: a request first waits until they apply the table. */
const liveHaproxy = new Set<HaproxyRouter>();

/** Kernels of the routers running now (their plugins' state is changed by the tests). */
const liveKernels = new Set<Kernel>();

/**
 * Apply every test table change to the HAProxy data planes, and announce the tests' changes of
 * their plugins' state (`routeRulesChanged`), as the platform does after each of its changes.
 */
export async function settle(): Promise<void> {
  for (const k of liveKernels) k.hooks.routeRulesChanged.call();
  await Promise.all([...liveHaproxy].map((r) => r.sync()));
}

/** A real HTTP server standing in for a web dyno. */
export interface Backend {
  port: number;
  server: http.Server;
  /** Requests it received. */
  seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  target(dyno: string): RouteTarget;
  close(): Promise<void>;
}

/** Echo handler: answers JSON with what it received. */
export const echo: http.RequestListener = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
  });
};

/** Start a backend on 127.0.0.1 with `handler` (default: echo). */
export async function startBackend(handler: http.RequestListener = echo): Promise<Backend> {
  const seen: Backend['seen'] = [];
  const server = http.createServer((req, res) => {
    const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' };
    seen.push(entry);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    server,
    seen,
    target: (dyno) => ({ dyno, host: '127.0.0.1', port }),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A route table the test changes as it goes. */
export class TestTable implements RouteTable {
  readonly apps = new Map<string, AppRoute>();
  readonly domains = new Map<string, string>();
  set(app: string, targets: RouteTarget[], state: AppRoute['state'] = 'ok'): this {
    this.apps.set(app, { app, state, targets });
    return this;
  }
  appForHost(host: string): string | undefined {
    return this.domains.get(host);
  }
  route(app: string): AppRoute | undefined {
    return this.apps.get(app);
  }
}

/** A listening router and the log lines it wrote. */
export interface TestRouter {
  router: Router;
  port: number;
  lines: LogLine[];
  /** Wait until a log line matching `re` was written, and return it. */
  line(re: RegExp, timeoutMs?: number): Promise<string>;
}

/**
 * A router on the given data plane, from the Node router's options (those HAProxy has); a
 * HAProxy one is synced by `settle()` until it closes.
 */
export function createTestRouter(plane: Plane, opts: RouterOptions, extra: HaproxyExtras = {}): Router {
  const kernel = opts.kernel;
  if (kernel) liveKernels.add(kernel);
  if (plane === 'node') {
    const n = createRouter(opts);
    const closeNode = n.close.bind(n);
    n.close = (grace) => {
      if (kernel) liveKernels.delete(kernel);
      return closeNode(grace);
    };
    return n;
  }
  const table = opts.table;
  if (!(table instanceof TestTable))
    throw new Error('the HAProxy data plane needs a TestTable (it lists apps)');
  const h = createHaproxyRouter({
    table: { ...bind(table), apps: () => table.apps.keys(), domains: () => table.domains.entries() },
    baseDomain: opts.baseDomain,
    ...(opts.kernel ? { kernel: opts.kernel } : {}),
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.tls ? { tls: opts.tls } : {}),
    ...(opts.onError ? { onError: opts.onError } : {}),
    ...(extra.maintenance ? { maintenance: extra.maintenance } : {}),
  });
  liveHaproxy.add(h);
  const close = h.close.bind(h);
  h.close = (grace) => {
    liveHaproxy.delete(h);
    if (kernel) liveKernels.delete(kernel);
    return close(grace);
  };
  return h;
}

/** Start a router on a free loopback port with base domain `example.test`, on the given data plane. */
export async function startRouter(
  table: TestTable | RouteTable,
  opts: Partial<RouterOptions> = {},
  plane: Plane = 'node',
  extra: HaproxyExtras = {},
): Promise<TestRouter> {
  const lines: LogLine[] = [];
  const log = { write: (l: LogLine) => lines.push(l) };
  const router = createTestRouter(plane, { table, baseDomain: 'example.test', log, ...opts }, extra);
  const { port } = await router.listen(0, '127.0.0.1');
  return {
    router,
    port,
    lines,
    async line(re, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = lines.find((l) => re.test(l.message));
        if (hit) return hit.message;
        if (Date.now() > deadline)
          throw new Error(`no log line matches ${re}; got:\n${lines.map((l) => l.message).join('\n')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

/** A response read in full. */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request on a fresh connection. */
export async function request(
  port: number,
  opts: {
    host: string;
    path?: string;
    method?: string;
    headers?: Record<string, string | string[]>;
    body?: string;
  },
): Promise<Reply> {
  await settle();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: opts.path ?? '/',
        method: opts.method ?? 'GET',
        headers: { ...opts.headers, host: opts.host },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** What came back on a raw connection, and whether the router closed it. */
export interface RawReply {
  text: string;
  closedByServer: boolean;
}

/** Write raw bytes; collect the answer until the server closes or `waitMs` of silence. */
export async function rawRequest(port: number, raw: string | Buffer, waitMs = 300): Promise<RawReply> {
  await settle();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let closedByServer = false;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closedByServer });
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      timer.refresh();
    });
    socket.on('end', () => {
      closedByServer = true;
      done();
    });
    socket.on('error', () => {
      closedByServer = true;
      done();
    });
    socket.write(raw);
  });
}

/**
 * Whether the curl command is there for `what` (CI installs it): without it the check fails
 * under CI=true and is skipped, loudly, elsewhere.
 */
export async function curlInstalled(what: string): Promise<boolean> {
  const ok = await new Promise<boolean>((r) => execFile('curl', ['--version'], (e) => r(!e)));
  if (ok) return true;
  if (process.env.CI === 'true') throw new Error(`curl is not installed (${what} needs it)`);
  console.warn(`  !!! SKIPPED: ${what} needs curl`);
  return false;
}

/** A self-signed certificate for `names`, made by the openssl command line. */
export async function selfSigned(
  dir: string,
  id: string,
  names: string[],
): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${id}.crt`);
  const key = join(dir, `${id}.key`);
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${id}`,
    '-addext',
    `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
  ]);
  return { cert, key };
}

/** Resolve after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A loopback port nothing listens on (connections are refused). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Poll until `cond()` holds (for events on a loaded machine), failing after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** The table's lookups, bound (for a table object that adds listings). */
function bind(t: TestTable): RouteTable {
  return { appForHost: (h) => t.appForHost(h), route: (a) => t.route(a) };
}
