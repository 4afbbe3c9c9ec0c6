/**
 * The Node router's evaluator of declarative route rules (`RouteRule` in @slipway/core), the
 * reference semantics the HAProxy compiler (`route-rules-compile.ts`) reproduces: an app's
 * rules in order, the first answer or redirect wins, an `app` action switches to that app's
 * rules once, edits add up. A malformed rule is reported once and skipped: the app keeps being
 * served as if the rule were not there.
 */
import { BlockList, isIPv6 } from 'node:net';
import {
  checkRouteRules,
  type IncomingRequestInfo,
  type KernelHooks,
  normalizePath,
  type RouteDecision,
  type RouteRule,
  type RouteRuleMatch,
  withHeaderEdits,
} from '@slipway/core';
import { H_CODES, type HCodeName, renderError } from './h-codes.js';

/** Rules already checked (rule objects are usually kept by the plugin between calls). */
const checked = new WeakSet<RouteRule>();
const ranges = new WeakMap<RouteRuleMatch, BlockList>();
/** Each app's last good rules, per hook (kept when a tap throws), and the tap errors told. */
const lastGood = new WeakMap<object, Map<string, RouteRule[]>>();
const tapErrors = new Set<string>();
/** Malformed rules already reported (a plugin that keeps its rule objects is told once). */
const reportedOnce = new WeakSet<RouteRule>();

/** The rules of `app` that are well formed; the others go to `onError` (each object once). */
export function usableRules(
  hook: KernelHooks['routeRules'],
  app: string,
  hosts: readonly string[],
  onError: (e: unknown) => void,
  reported: WeakSet<object> = reportedOnce,
): RouteRule[] {
  let rules: RouteRule[];
  try {
    rules = hook.call([], { app, hosts });
  } catch (e) {
    // A plugin's tap threw (the kernel's error names it): the app keeps its last good rules,
    // on both data planes, and the error is told once per message.
    const text = String(e);
    if (!tapErrors.has(text)) onError(e);
    if (tapErrors.size > 100) tapErrors.clear();
    tapErrors.add(text);
    return lastGood.get(hook)?.get(app) ?? [];
  }
  const out: RouteRule[] = [];
  for (const [i, r] of rules.entries()) {
    if (checked.has(r)) {
      out.push(r);
      continue;
    }
    try {
      checkRouteRules(app, [r], i);
      checked.add(r);
      out.push(r);
    } catch (e) {
      if (!reported.has(r)) onError(e);
      reported.add(r);
    }
  }
  const last = lastGood.get(hook) ?? new Map<string, RouteRule[]>();
  lastGood.set(hook, last);
  last.set(app, out);
  return out;
}

/**
 * The value of cookie `name` in a `Cookie` header: the last one of that name, as HAProxy's
 * `req.cook` reads it, so both data planes agree.
 */
export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  const jar = Array.isArray(header) ? header.join('; ') : header;
  if (!jar) return undefined;
  let value: string | undefined;
  for (const pair of jar.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) value = pair.slice(eq + 1).trim();
  }
  return value;
}

function inRanges(m: RouteRuleMatch, addr: string): boolean {
  let list = ranges.get(m);
  if (!list) {
    list = new BlockList();
    for (const s of m.source ?? []) {
      const [net, bits] = s.split('/');
      const type = isIPv6(net!) ? 'ipv6' : 'ipv4';
      list.addSubnet(net!, bits === undefined ? (type === 'ipv6' ? 128 : 32) : Number(bits), type);
    }
    ranges.set(m, list);
  }
  return list.check(addr, isIPv6(addr) ? 'ipv6' : 'ipv4');
}

/** Whether `m` holds for the request. */
export function ruleMatches(m: RouteRuleMatch | undefined, req: IncomingRequestInfo): boolean {
  if (!m) return true;
  if (m.protocol !== undefined && m.protocol !== req.protocol) return false;
  if (m.host !== undefined && m.host !== req.host) return false;
  if (m.pathPrefix !== undefined) {
    const q = req.url.indexOf('?');
    const path = normalizePath(q < 0 ? req.url : req.url.slice(0, q));
    if (!path.startsWith(normalizePath(m.pathPrefix))) return false;
  }
  if (m.header) {
    const v = req.headers[m.header.name.toLowerCase()];
    if (m.header.absent) {
      if (v !== undefined) return false;
    } else if (typeof v !== 'string' || (m.header.value !== undefined && v !== m.header.value)) return false;
  }
  if (m.cookie && cookieValue(req.headers.cookie, m.cookie.name) !== m.cookie.value) return false;
  if (m.source && !inRanges(m, req.remoteAddress)) return false;
  return true;
}

/**
 * The decision after the rules of the decided app (and of the app a rule switches to).
 * `rulesFor` gives an app's usable rules. The first matching `app`, `respond` or `redirect`
 * rule decides; every matching `edit` rule of the app that serves the request adds its edits
 * to whatever answer it gets, in order (an `app` switch leaves the first app's edits behind).
 */
export function applyRouteRules(
  decision: RouteDecision,
  req: IncomingRequestInfo,
  rulesFor: (app: string) => readonly RouteRule[],
): RouteDecision {
  if (decision.kind !== 'app') return decision;
  let app = decision.app;
  let rules = rulesFor(app);
  let chosen = firstDecisive(rules, req, true);
  if (chosen?.kind === 'app') {
    app = chosen.app;
    rules = rulesFor(app);
    chosen = firstDecisive(rules, req, false);
  }
  let out: RouteDecision =
    chosen === undefined || chosen.kind === 'app'
      ? app === decision.app
        ? decision
        : { kind: 'app', app }
      : chosen.kind === 'redirect'
        ? {
            kind: 'redirect',
            status: chosen.status,
            location: chosen.keepPath
              ? `${chosen.location}${req.url.startsWith('/') ? req.url : '/'}`
              : chosen.location,
            app,
          }
        : respond(chosen, req, app);
  for (const r of rules)
    if (r.action.kind === 'edit' && ruleMatches(r.match, req)) out = withHeaderEdits(out, r.action);
  return out;
}

/** The action of the first matching rule that decides (app switches only when `switching`). */
function firstDecisive(
  rules: readonly RouteRule[],
  req: IncomingRequestInfo,
  switching: boolean,
): Exclude<RouteRule['action'], { kind: 'edit' | 'code' }> | undefined {
  for (const r of rules) {
    const a = r.action;
    // `code` only tells HAProxy to send the request here, where the taps run anyway.
    if (a.kind === 'edit' || a.kind === 'code' || (a.kind === 'app' && !switching)) continue;
    if (ruleMatches(r.match, req)) return a;
  }
  return undefined;
}

function respond(
  a: Extract<RouteRule['action'], { kind: 'respond' }>,
  req: IncomingRequestInfo,
  app: string,
): RouteDecision {
  if (a.body !== undefined)
    return {
      kind: 'respond',
      status: a.status,
      ...(a.code ? { code: a.code } : {}),
      headers: { 'Content-Type': 'text/html; charset=utf-8', ...a.headers },
      body: a.body,
      app,
    };
  // The router's page of the code, as for its own errors (the id is the one the log shows).
  const info = H_CODES[a.code as HCodeName];
  const accept = typeof req.headers.accept === 'string' ? req.headers.accept : undefined;
  const rid = req.headers['x-request-id'];
  const { contentType, body } = renderError(
    {
      code: a.code!,
      status: a.status,
      desc: info?.desc ?? a.code!,
      page: a.page ?? info?.page ?? '',
    },
    typeof rid === 'string' ? rid : '-',
    accept,
  );
  return {
    kind: 'respond',
    status: a.status,
    code: a.code!,
    headers: { 'Content-Type': contentType, 'Cache-Control': 'no-cache, no-store', ...a.headers },
    body,
    app,
  };
}
