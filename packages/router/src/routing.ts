/**
 * From a parsed request to a decision: guard, Host match, request id, then the kernel's
 * `route` hook. Shared by plain requests and WebSocket upgrades.
 */
import type { IncomingRequestInfo, KernelHooks, LogSink, RouteDecision } from '@slipway/core';
import type { ClientRequest } from './client-message.js';
import { normalizeHost, resolveApp } from './host.js';
import type { RouterLimits, RouterTimeouts } from './limits.js';
import { checkRequestHead } from './request-guard.js';
import { requestIdFor } from './request-id.js';
import { applyRouteRules } from './route-rules.js';
import type { RuleCache } from './route-rules-cache.js';
import type { RouteTable } from './route-table.js';
import type { TargetPool } from './target-pool.js';

/** Everything a request handler needs, shared by all requests of one router. */
export interface RouterContext {
  readonly table: RouteTable;
  readonly baseDomain: string;
  readonly pool: TargetPool;
  readonly limits: RouterLimits;
  readonly timeouts: RouterTimeouts;
  readonly routeHook: KernelHooks['route'] | undefined;
  /** The kernel's `routeRules` hook: declarative rules, evaluated before the `route` taps. */
  readonly rulesHook?: KernelHooks['routeRules'] | undefined;
  /** The hook's rules per app and host, kept between requests (`route-rules-cache.ts`). */
  readonly rules?: RuleCache | undefined;
  readonly log: LogSink | undefined;
  /** Told about every failure answered with H99 (a throwing tap or table). */
  readonly onError: (err: unknown) => void;
}

/** The routing facts of one request. */
export interface Routed {
  /** Normalised Host, or '' when it is not a valid host name. */
  host: string;
  requestId: string;
  /** `X-Forwarded-For` as the dyno will see it. */
  fwd: string;
  /** Why the request must be refused (H25), when it must. */
  restriction: string | undefined;
  decision: RouteDecision;
}

/** The client address, without the IPv4-mapped IPv6 prefix. */
export function clientAddress(req: ClientRequest): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * Route one request. Throws only when a `route` tap throws (the caller answers H99); a
 * request that breaks a restriction still gets a host and app (for the log) and `restriction`.
 */
export function routeRequest(ctx: RouterContext, req: ClientRequest, protocol: 'http' | 'https'): Routed {
  const h = req.headers;
  const host = normalizeHost(h.host) ?? '';
  const requestId = requestIdFor(h['x-request-id']);
  const remote = clientAddress(req);
  const xff = h['x-forwarded-for'];
  const fwd = xff ? `${xff}, ${remote}` : remote;
  const restriction = checkRequestHead(req, ctx.limits);
  const app = host ? resolveApp(host, ctx.baseDomain, ctx.table) : undefined;
  let decision: RouteDecision = app === undefined ? { kind: 'none' } : { kind: 'app', app };
  const cache = ctx.rulesHook !== undefined && ctx.rulesHook.taps.length > 0 ? ctx.rules : undefined;
  const taps = ctx.routeHook !== undefined && ctx.routeHook.taps.length > 0 ? ctx.routeHook : undefined;
  // Rules start from the app's own: when it has none (most apps, most of the time), none apply.
  const ruled = restriction === undefined && app !== undefined && cache !== undefined;
  const rules = ruled && cache.rules(app, host).length > 0 ? cache : undefined;
  if (restriction === undefined && (rules || taps)) {
    // The id the router settled on, so a plugin's page shows the id the logs show. Not
    // `{ ...h, name: v }`: V8 builds that literal on its slow path (~0.5 µs, a tenth of a request).
    const headers: IncomingRequestInfo['headers'] = Object.assign({}, h);
    (headers as Record<string, string>)['x-request-id'] = requestId;
    const info: IncomingRequestInfo = {
      method: req.method ?? 'GET',
      host,
      url: req.url ?? '/',
      headers,
      remoteAddress: remote,
      protocol,
    };
    if (rules) decision = applyRouteRules(decision, info, (a) => rules.rules(a, host));
    if (taps) decision = taps.call(decision, info);
  }
  return { host, requestId, fwd, restriction, decision };
}
