/**
 * Which data plane serves the platform's router: `node` (the Node router, @slipway/router's
 * `createRouter`), `haproxy` (HAProxy driven live over its stats socket, `createHaproxyRouter`;
 * needs Debian's haproxy package), or `auto`: HAProxy when it is installed, else Node with a
 * warning. Both give the same Heroku semantics (router conformance tests) and both apply the
 * kernel's route rules (`routeRules`); only the Node router runs JS `route` taps.
 */
import type { Kernel, LogSink } from '@slipway/core';
import {
  type CertificateStore,
  createHaproxyRouter,
  createRouter,
  findHaproxy,
  type MaintenanceState,
  type RouteListing,
  type Router,
  type RouteTable,
} from '@slipway/router';
import { runtimeErrors } from './errors.js';

/** `platform.router` / `slipway start --router`. */
export type RouterName = 'node' | 'haproxy' | 'auto';

/** The names `RouterName` accepts. */
export const ROUTER_NAMES: readonly RouterName[] = ['node', 'haproxy', 'auto'];

/** What the platform hands to either data plane. */
export interface PlatformRouterOptions {
  name: RouterName;
  kernel: Kernel;
  table: RouteTable & RouteListing;
  baseDomain: string;
  log: LogSink;
  certificates: CertificateStore;
  maintenance: MaintenanceState;
  /** Where the HAProxy data plane keeps its files (under the data dir). */
  dir: string;
}

/** The chosen router and, for `auto` without HAProxy, why it fell back. */
export interface PlatformRouter {
  router: Router;
  dataPlane: 'node' | 'haproxy';
  /** Apply the platform's state now (HAProxy; a no-op for Node, which reads it per request). */
  sync(): void;
  warning?: string;
}

/** Create the platform's router on the chosen data plane. */
export async function createPlatformRouter(o: PlatformRouterOptions): Promise<PlatformRouter> {
  if (!ROUTER_NAMES.includes(o.name))
    throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ROUTER({ name: String(o.name), names: ROUTER_NAMES.join(', ') });
  const node = (warning?: string): PlatformRouter => ({
    router: createRouter({
      kernel: o.kernel,
      table: o.table,
      baseDomain: o.baseDomain,
      log: o.log,
      tls: { store: o.certificates },
    }),
    dataPlane: 'node',
    sync: () => undefined,
    ...(warning ? { warning } : {}),
  });
  if (o.name === 'node') return node();
  if (!(await findHaproxy())) {
    if (o.name === 'haproxy') throw runtimeErrors.SLIPWAY_ERR_RUNTIME_ROUTER_HAPROXY();
    return node(
      'haproxy is not installed: the Node router serves apps (apt-get install haproxy for the HAProxy data plane)',
    );
  }
  const router = createHaproxyRouter({
    // Its route rules (maintenance, HTTPS redirects and HSTS, plugins') are compiled into maps.
    kernel: o.kernel,
    table: o.table,
    baseDomain: o.baseDomain,
    log: o.log,
    tls: { store: o.certificates },
    maintenance: o.maintenance,
    dir: o.dir,
    onError: (e) => console.error(`slipway router (haproxy): ${String(e)}`),
  });
  return {
    router,
    dataPlane: 'haproxy',
    sync: () => void router.sync().catch((e) => console.error(`slipway router (haproxy): ${String(e)}`)),
  };
}
