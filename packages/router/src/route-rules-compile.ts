/**
 * Route rules compiled for the HAProxy data plane. The fixed rule block of the configuration
 * (`ruleBlock`) builds one signature string per request of an app that has rules
 * (`slot|proto|host|source tags|header fields…|cookie fields…|path`) and looks it up in regex
 * maps whose keys are the compiled rules, first match wins, as the Node evaluator's order
 * (`route-rules.ts`). What a rule does lives in a value map keyed by a hash of the action, so
 * new rules' values are in place before the rules that point at them. Only the block's
 * *shape* (the header and cookie names rules read, the statuses they answer with, the header
 * names they edit) is in the configuration: a new name is a reload, anything else is live.
 */
import { createHash } from 'node:crypto';
import { BlockList, isIPv6 } from 'node:net';
import { normalizePath, type RouteRule, type RouteRuleEdits, type RouteRuleMatch } from '@slipway/core';
import { DROP_REQUEST } from './forwarded-headers.js';
import { FRAMING } from './header-edits.js';

/** One app's rules, with the slot backend that serves it. */
export interface AppRules {
  app: string;
  slot: string;
  rules: readonly RouteRule[];
}

/** The names and statuses the fixed rule block is generated for. */
export interface RuleShape {
  headers: string[];
  cookies: string[];
  statuses: number[];
  requestSet: string[];
  requestRemove: string[];
  responseHeaders: string[];
  /** Slot backends of the Node router (for `code` rules), by client protocol; set by the router. */
  node?: { http: string; https: string };
}

/** Map contents (lines `key value`) and the shape they need. */
export interface CompiledRules {
  shape: RuleShape;
  /** Equal keys: the running configuration can take these maps live. */
  shapeKey: string;
  /** Slots of apps with rules (`slotN 1`): requests of the others skip the block. */
  slots: string[];
  /** First lookup: app switches, answers and redirects (map_reg, in order). */
  first: string[];
  /** After an app switch: the new app's answers and redirects. */
  second: string[];
  /** Edit rules: each combination of an app's matching edit rules, largest first. */
  edits: string[];
  /** Source ranges (map_ip): `cidr ,tag,tag,` (the tags of every range containing it). */
  sources: string[];
  /** `<id>.<field> <base64 value>`. */
  values: string[];
  /** Rules HAProxy cannot take, with why (they still apply on the Node router). */
  problems: string[];
}

/** An app's edit rules beyond this many are not combined (2^n map entries). */
const MAX_EDIT_RULES = 4;

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const hashId = (v: unknown): string =>
  `a${createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 12)}`;
const ANY = '[^|]*';
const SEP = '[|]';

/** A literal in a map_reg key: no spaces, `;`, `#` or backslashes (the runtime API and map files). */
function literal(s: string): string | undefined {
  let out = '';
  for (const c of s) {
    if (/[A-Za-z0-9]/.test(c)) out += c;
    else if (/[!"$%&'()*+,./:<=>?@_`{|}~-]/.test(c)) out += `[${c}]`;
    else return undefined;
  }
  return out;
}

/**
 * A path prefix's regex matching every spelling of it a dyno reads as the same path: each
 * unreserved character also as its escape, in either case of hex (`a` is `(?:a|%61)`), as the
 * Node router compares with `normalizePath`.
 */
function pathLiteral(prefix: string): string | undefined {
  let out = '';
  for (const c of normalizePath(prefix)) {
    const lit = literal(c);
    if (lit === undefined) return undefined;
    if (!/[A-Za-z0-9._~-]/.test(c)) {
      out += lit;
      continue;
    }
    const hex = c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
    const esc = [...hex].map((h) => (/[A-F]/.test(h) ? `[${h}${h.toLowerCase()}]` : h)).join('');
    out += `(?:${lit}|%${esc})`;
  }
  return out;
}

/** A header or cookie value as HAProxy's `url_enc` writes it (unreserved kept, else %HH). */
function encoded(s: string): string {
  let out = '';
  for (const b of Buffer.from(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9]/.test(c)) out += c;
    else if (/[-_.~]/.test(c)) out += `[${c}]`;
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function cidrParts(s: string): { net: string; bits: number; type: 'ipv4' | 'ipv6' } {
  const [net, bits] = s.split('/');
  const type = isIPv6(net!) ? 'ipv6' : 'ipv4';
  return { net: net!, bits: bits === undefined ? (type === 'ipv6' ? 128 : 32) : Number(bits), type };
}

class Compiler {
  readonly shape: RuleShape = {
    headers: [],
    cookies: [],
    statuses: [],
    requestSet: [],
    requestRemove: [],
    responseHeaders: [],
  };
  readonly values = new Map<string, string>();
  readonly cidrs: string[] = [];
  readonly problems: string[] = [];

  constructor(apps: readonly AppRules[]) {
    // The shape first: every rule's regex has a field per name.
    const add = (list: string[], v: string): void => {
      // A name goes into the configuration: `#`, `%` or quotes would break it there.
      if (!/^[A-Za-z0-9_.-]+$/.test(v)) this.problems.push(`header or cookie name ${v} cannot be compiled`);
      else if (!list.includes(v)) list.push(v);
    };
    for (const { rules } of apps)
      for (const r of rules) {
        const m = r.match ?? {};
        if (m.header) add(this.shape.headers, m.header.name.toLowerCase());
        if (m.cookie) add(this.shape.cookies, m.cookie.name);
        for (const s of m.source ?? []) if (!this.cidrs.includes(s)) this.cidrs.push(s);
        const a = r.action;
        if (a.kind === 'respond') {
          if (!this.shape.statuses.includes(a.status)) this.shape.statuses.push(a.status);
          for (const n of Object.keys(a.headers ?? {})) add(this.shape.responseHeaders, n.toLowerCase());
        }
        if (a.kind === 'edit') {
          for (const n of Object.keys(a.requestHeaders?.set ?? {}))
            add(this.shape.requestSet, n.toLowerCase());
          for (const n of a.requestHeaders?.remove ?? []) add(this.shape.requestRemove, n.toLowerCase());
          for (const n of Object.keys(a.responseHeaders ?? {}))
            add(this.shape.responseHeaders, n.toLowerCase());
        }
      }
    // Framing, hop-by-hop and the router's own headers: edits of them are moot on both planes.
    const editable = (n: string): boolean => !FRAMING.has(n) && !DROP_REQUEST.has(n);
    this.shape.requestSet = this.shape.requestSet.filter(editable);
    this.shape.requestRemove = this.shape.requestRemove.filter(editable);
    this.shape.responseHeaders = this.shape.responseHeaders.filter((n) => !FRAMING.has(n));
    for (const k of Object.keys(this.shape) as (keyof RuleShape)[]) (this.shape[k] as unknown[]).sort();
  }

  /** The regex of a rule's match for `slot`, or why HAProxy cannot take it. */
  regex(slot: string, m: RouteRuleMatch = {}): string | { problem: string } {
    const host = m.host === undefined ? ANY : literal(m.host);
    if (host === undefined) return { problem: `host ${m.host} has characters HAProxy maps cannot hold` };
    const path = m.pathPrefix === undefined ? '' : pathLiteral(m.pathPrefix);
    if (path === undefined)
      return { problem: `path prefix ${m.pathPrefix} has characters HAProxy maps cannot hold` };
    if (m.header && !this.shape.headers.includes(m.header.name.toLowerCase()))
      return { problem: `header ${m.header.name} cannot be compiled` };
    if (m.cookie && !this.shape.cookies.includes(m.cookie.name))
      return { problem: `cookie ${m.cookie.name} cannot be compiled` };
    const tags = (m.source ?? []).map((s) => `t${this.cidrs.indexOf(s)}`);
    const src = tags.length ? `${ANY},(?:${tags.join('|')}),${ANY}` : ANY;
    const fields = [slot, m.protocol ?? 'https?', host, src];
    for (const h of this.shape.headers) {
      const want = m.header?.name.toLowerCase() === h ? m.header : undefined;
      if (!want) fields.push(ANY);
      else if (want.absent) fields.push('0:');
      // Present: sent any number of times, as Node joins repeats into one value (`1:` alone
      // let a client slip past a deny-by-presence rule by sending the header twice).
      else if (want.value === undefined) fields.push(`[1-9][0-9]*:${ANY}`);
      else fields.push(`1:${encoded(want.value)}`);
    }
    for (const c of this.shape.cookies)
      fields.push(m.cookie?.name === c ? `[1-9][0-9]*:${encoded(m.cookie.value)}` : ANY);
    return `^${fields.join(SEP)}${SEP}${path}`;
  }

  /** Store an action's values; its id. */
  action(a: RouteRule['action'], slotOf: (app: string) => string | undefined): string {
    const v: Record<string, string> = {};
    switch (a.kind) {
      case 'app':
        v.app = slotOf(a.app) ?? 'nil';
        break;
      case 'respond':
        v.status = String(a.status);
        if (a.code !== undefined && a.body === undefined) v.code = a.code;
        if (a.page !== undefined && a.body === undefined) v.page = b64(a.page);
        if (a.body !== undefined) v.body = b64(a.body);
        for (const [n, x] of Object.entries(a.headers ?? {})) v[`res.${n.toLowerCase()}`] = b64(x);
        break;
      case 'redirect':
        v.redirect = String(a.status);
        v.loc = b64(a.location);
        if (a.keepPath) v.keep = '1';
        break;
      case 'edit':
        this.edits(a, v);
        break;
      case 'code':
        v.node = '1';
        break;
    }
    const id = hashId(v);
    for (const [k, x] of Object.entries(v)) this.values.set(`${id}.${k}`, x);
    return id;
  }

  private edits(e: RouteRuleEdits, v: Record<string, string>): void {
    for (const [n, x] of Object.entries(e.requestHeaders?.set ?? {})) v[`req.${n.toLowerCase()}`] = b64(x);
    for (const n of e.requestHeaders?.remove ?? []) v[`del.${n.toLowerCase()}`] = '1';
    for (const [n, x] of Object.entries(e.responseHeaders ?? {})) v[`res.${n.toLowerCase()}`] = b64(x);
  }
}

/** Merge edits in order, as `withHeaderEdits` does (later names win, a removal cancels a set). */
function mergeEdits(list: readonly RouteRuleEdits[]): RouteRuleEdits {
  const set = new Map<string, string>();
  const remove = new Set<string>();
  const res = new Map<string, string>();
  for (const e of list) {
    for (const n of e.requestHeaders?.remove ?? []) {
      remove.add(n.toLowerCase());
      set.delete(n.toLowerCase());
    }
    for (const [n, x] of Object.entries(e.requestHeaders?.set ?? {})) {
      remove.delete(n.toLowerCase());
      set.set(n.toLowerCase(), x);
    }
    for (const [n, x] of Object.entries(e.responseHeaders ?? {})) res.set(n.toLowerCase(), x);
  }
  return {
    requestHeaders: { set: Object.fromEntries(set), remove: [...remove] },
    responseHeaders: Object.fromEntries(res),
  };
}

/** Compile every app's rules into map contents. `slotOf` gives the slot of an app switched to. */
export function compileRouteRules(
  apps: readonly AppRules[],
  slotOf: (app: string) => string | undefined,
): CompiledRules {
  const c = new Compiler(apps);
  const out: CompiledRules = {
    shape: c.shape,
    shapeKey: JSON.stringify(c.shape),
    slots: [],
    first: [],
    second: [],
    edits: [],
    sources: [],
    values: [],
    problems: c.problems,
  };
  for (const { app, slot, rules } of apps) {
    if (rules.length === 0) continue;
    out.slots.push(`${slot} 1`);
    const edits: { re: string; edits: RouteRuleEdits }[] = [];
    for (const r of rules) {
      const re = c.regex(slot, r.match);
      if (typeof re !== 'string') {
        c.problems.push(`app ${app}, rule ${r.name ?? '?'}: ${re.problem}`);
        continue;
      }
      if (r.action.kind === 'edit') {
        edits.push({ re, edits: r.action });
        continue;
      }
      const id = c.action(r.action, slotOf);
      out.first.push(`${re} ${id}`);
      if (r.action.kind !== 'app') out.second.push(`${re} ${id}`);
    }
    if (edits.length > MAX_EDIT_RULES) {
      c.problems.push(`app ${app}: only its first ${MAX_EDIT_RULES} edit rules apply on HAProxy`);
      edits.length = MAX_EDIT_RULES;
    }
    // Every non-empty combination, largest first: the first whose rules all match is the set
    // of matching rules, whose merged edits apply (as the Node evaluator applies each in turn).
    const combos: number[] = [];
    for (let mask = 1; mask < 1 << edits.length; mask++) combos.push(mask);
    combos.sort((a, b) => popcount(b) - popcount(a) || a - b);
    for (const mask of combos) {
      const chosen = edits.filter((_, i) => mask & (1 << i));
      const id = c.action({ kind: 'edit', ...mergeEdits(chosen.map((e) => e.edits)) }, slotOf);
      out.edits.push(`^${chosen.map((e) => `(?=${e.re})`).join('')} ${id}`);
    }
  }
  out.sources = sourceTags(c.cidrs);
  out.values = [...c.values].map(([k, v]) => `${k} ${v}`).sort();
  return out;
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x; x &= x - 1) c++;
  return c;
}

/** Each range with the tags of every range that contains it (map_ip finds the longest). */
function sourceTags(cidrs: readonly string[]): string[] {
  const parts = cidrs.map(cidrParts);
  return parts.map((p, i) => {
    const tags = parts
      .map((q, j) => {
        if (q.type !== p.type || q.bits > p.bits) return undefined;
        const list = new BlockList();
        list.addSubnet(q.net, q.bits, q.type);
        return list.check(p.net, p.type) ? `t${j}` : undefined;
      })
      .filter((t) => t !== undefined);
    return `${cidrs[i]} ,${tags.join(',')},`;
  });
}
