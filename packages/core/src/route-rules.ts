/**
 * Declarative route rules: what a route plugin returns from the `routeRules` hook instead of
 * running code on every request. A rule is data (match → action), so the same rules are
 * evaluated by the Node router (`@slipway/router`'s evaluator) and compiled into maps for the
 * HAProxy data plane. `checkRouteRules` refuses a malformed rule with a coded error naming
 * the plugin's field and the fix, before any request sees it.
 */
import { isIP } from 'node:net';
import { defineErrors } from './errors.js';

/** A request header condition: equal to `value`, present (no `value`), or `absent`. */
export type RouteHeaderMatch =
  | { name: string; value?: string; absent?: false }
  | { name: string; absent: true; value?: undefined };

/** What a rule matches on; every given condition must hold (an empty match holds always). */
export interface RouteRuleMatch {
  /** The request's host (lower-case, no port); default: any host of the app. */
  host?: string;
  /** The path (before `?`) starts with this (it starts with `/`). */
  pathPrefix?: string;
  /**
   * A request header (its name is case-insensitive): present however often it is sent, or
   * sent once with this value (compared whole), or absent.
   */
  header?: RouteHeaderMatch;
  /** A cookie of the `Cookie` header equal to `value`. */
  cookie?: { name: string; value: string };
  /** The client address is in one of these ranges (`10.0.0.0/8`, `::1/128`, `192.0.2.7`). */
  source?: readonly string[];
  /** Plain HTTP or HTTPS. */
  protocol?: 'http' | 'https';
}

/** Request header edits (for the dyno) and response header edits (for the client). */
export interface RouteRuleEdits {
  requestHeaders?: { set?: Readonly<Record<string, string>>; remove?: readonly string[] };
  responseHeaders?: Readonly<Record<string, string>>;
}

/** What a matching rule does. */
export type RouteRuleAction =
  /** Route to another app (a canary): its own rules apply next. Once per request. */
  | { kind: 'app'; app: string }
  /**
   * Answer without a dyno. With `code` (a Heroku H-code) and no `body`, the router's page of
   * that code (HTML or JSON, with the request id), its sentence replaced by `page` if given.
   */
  | {
      kind: 'respond';
      status: number;
      code?: string;
      page?: string;
      body?: string;
      headers?: Readonly<Record<string, string>>;
    }
  /** Redirect to `location`, followed by the request's path and query when `keepPath`. */
  | { kind: 'redirect'; status: 301 | 302 | 307 | 308; location: string; keepPath?: boolean }
  /** Edit headers and go on with the next rules (edits of several rules add up). */
  | ({ kind: 'edit' } & RouteRuleEdits)
  /**
   * The request needs the plugin's code (its `route` tap): on the HAProxy data plane it goes
   * through the Node router, which runs every rule and tap. The Node router runs taps anyway.
   */
  | { kind: 'code' };

/** One rule: when `match` holds for a request of the app, do `action`. */
export interface RouteRule {
  /** Name for errors and listings (e.g. `maintenance`); defaults to the plugin's tap name. */
  name?: string;
  match?: RouteRuleMatch;
  action: RouteRuleAction;
}

/** What `routeRules` taps get: the app, and the hosts the rules will be applied to. */
export interface RouteRulesContext {
  app: string;
  /**
   * Hosts of the app the rules are compiled for: every host of the app on the HAProxy data
   * plane, the request's host on the Node router. A rule for another host is harmless.
   */
  hosts: readonly string[];
}

/** Errors of route rules. */
export const routeRuleErrors = defineErrors({
  SLIPWAY_ERR_ROUTE_RULE: {
    message: 'route rule {rule} of app {app}: {detail}',
    hint: 'Fix the rule the route plugin returns from routeRules (see the RouteRule type in @slipway/core).',
    status: 400,
  },
});

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REDIRECTS = new Set([301, 302, 307, 308]);
// Printable ASCII and the space: what both data planes carry unchanged in a map or a header.
const VALUE = /^[\x20-\x7e]*$/;
const HOST = /^[a-z0-9.*-]+$/;
// A regular expression's test turns a number into text: the compiler's Buffer.from would throw.
const isValue = (v: unknown): v is string => typeof v === 'string' && VALUE.test(v);

function checkHeaders(where: string, h: Readonly<Record<string, string>> | undefined, bad: string[]): void {
  for (const [n, v] of Object.entries(h ?? {})) {
    if (!TOKEN.test(n)) bad.push(`${where} header name "${n}" is not a token`);
    if (!isValue(v)) bad.push(`${where} header ${n} must be printable ASCII`);
  }
}

/**
 * An address or a CIDR range whose prefix fits its family. Both data planes build a Node
 * `BlockList` from it, which throws on `10.0.0.0/33` or `999.1.1.1`: at compile time that would
 * fail every app's map update on HAProxy, at request time the Node router's answer.
 */
function isRange(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  const m = /^([0-9a-fA-F:.]+)(?:\/(\d{1,3}))?$/.exec(s);
  const family = m ? isIP(m[1]!) : 0;
  return family !== 0 && (m![2] === undefined || Number(m![2]) <= (family === 6 ? 128 : 32));
}

/**
 * A path with the escapes of unreserved characters decoded (`/%61dmin` is `/admin`, RFC 3986
 * 6.2.2.2): the form both data planes compare a rule's `pathPrefix` in, since a dyno's framework
 * decodes them too and a rule on `/admin` must not be passed by spelling it another way.
 */
export function normalizePath(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (esc, hex: string) => {
    const c = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9._~-]/.test(c) ? c : esc;
  });
}

/** The problems of one rule (empty when it is well formed). */
export function routeRuleProblems(rule: RouteRule): string[] {
  const bad: string[] = [];
  const m = rule.match ?? {};
  if (m.host !== undefined && !(typeof m.host === 'string' && HOST.test(m.host)))
    bad.push(`match.host "${m.host}" is not a lower-case host name`);
  if (
    m.pathPrefix !== undefined &&
    !(typeof m.pathPrefix === 'string' && /^\/[\x21-\x7e]*$/.test(m.pathPrefix))
  )
    bad.push(`match.pathPrefix "${m.pathPrefix}" must start with / and hold no spaces`);
  if (m.header && (!TOKEN.test(m.header.name) || (m.header.value !== undefined && !isValue(m.header.value))))
    bad.push(`match.header ${m.header.name} needs a token name and a printable value`);
  if (m.cookie && (!TOKEN.test(m.cookie.name) || !isValue(m.cookie.value)))
    bad.push(`match.cookie ${m.cookie.name} needs a token name and a printable value`);
  for (const s of m.source ?? [])
    if (!isRange(s))
      bad.push(`match.source "${s}" is not an address or CIDR range (e.g. 10.0.0.0/8, ::1/128)`);
  if (m.protocol !== undefined && m.protocol !== 'http' && m.protocol !== 'https')
    bad.push(`match.protocol must be http or https`);
  const a = rule.action;
  switch (a?.kind) {
    case 'app':
      if (typeof a.app !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(a.app))
        bad.push(`action.app "${a.app}" is not an app name`);
      break;
    case 'respond':
      if (!Number.isInteger(a.status) || a.status < 200 || a.status > 599)
        bad.push(`action.status ${a.status} must be an HTTP status from 200 to 599`);
      if (a.code !== undefined && !/^[A-Z]\d{2}$/.test(a.code))
        bad.push(`action.code "${a.code}" is not an H-code`);
      if (a.body === undefined && a.code === undefined) bad.push('a respond action needs a body or a code');
      if (a.page !== undefined && !isValue(a.page)) bad.push('action.page must be printable ASCII');
      if (a.body !== undefined && typeof a.body !== 'string') bad.push('action.body must be a string');
      checkHeaders('action', a.headers, bad);
      break;
    case 'redirect':
      if (!REDIRECTS.has(a.status)) bad.push(`action.status ${a.status} must be 301, 302, 307 or 308`);
      if (typeof a.location !== 'string' || !/^https?:\/\/[\x21-\x7e]+$/.test(a.location))
        bad.push(`action.location "${a.location}" must be an absolute http(s) URL`);
      break;
    case 'edit':
      checkHeaders('action.requestHeaders.set', a.requestHeaders?.set, bad);
      for (const n of a.requestHeaders?.remove ?? [])
        if (!TOKEN.test(n)) bad.push(`removed header "${n}" is not a token`);
      checkHeaders('action.responseHeaders', a.responseHeaders, bad);
      break;
    case 'code':
      break;
    default:
      bad.push('action.kind must be app, respond, redirect, edit or code');
  }
  return bad;
}

/**
 * Throw SLIPWAY_ERR_ROUTE_RULE for the first malformed rule of `app`. `offset`: how many of
 * the app's rules come before `rules` (a caller checking one rule at a time names it right).
 */
export function checkRouteRules(app: string, rules: readonly RouteRule[], offset = 0): void {
  rules.forEach((rule, i) => {
    const bad = routeRuleProblems(rule);
    if (bad.length > 0)
      throw routeRuleErrors.SLIPWAY_ERR_ROUTE_RULE({
        rule: rule.name ?? `#${offset + i + 1}`,
        app,
        detail: bad.join('; '),
      });
  });
}
