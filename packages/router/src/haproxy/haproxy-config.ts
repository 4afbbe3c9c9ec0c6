// Over 400 lines: one generated configuration, its sections in the order haproxy reads them.
/**
 * The fixed HAProxy configuration of the HAProxy data plane. Nothing in it names an app or a
 * dyno: apps live in pre-declared slot backends (HAProxy 2.6 has no `add backend`), hosts and
 * app states in maps, dynos are servers added over the stats socket. The same Heroku semantics
 * as the Node router: request ids, X-Forwarded-*, Via, X-Request-Start, H-code pages, limits,
 * quarantine (mark a dyno down on its first refused connection, check it again after the
 * quarantine) and retries elsewhere, one log line per request to the log sink.
 */
import { H_CODES, type HCode } from '../h-codes.js';
import type { RouterLimits, RouterTimeouts } from '../limits.js';
import type { RuleShape } from '../route-rules-compile.js';
import { ruleBlock, ruleRequestEdits } from '../route-rules-haproxy.js';
import { HOP_BY_HOP_ACTION } from './lua-actions.js';

/** Files and ports one generated configuration refers to. */
export interface HaproxyConfigInput {
  /** Directory of the maps and certificates. */
  dir: string;
  /** This haproxy's stats socket (one per process: see `statsSocketPath`). */
  socket: string;
  /** HTTP listener, when HTTP is served. */
  http?: { host: string; port: number };
  /** TLS listener (HTTP/2 and HTTP/1.1 by ALPN) with a crt-list, when HTTPS is served. */
  tls?: { host: string; port: number; crtList: string };
  /** TCP port of the log sink. */
  logPort: number;
  /** Number of slot backends (apps served at once). */
  slots: number;
  /** HAProxy threads (default: HAProxy's own, one per CPU). */
  threads?: number;
  limits: RouterLimits;
  timeouts: RouterTimeouts;
  /** Shape of the route rules' block (none: no block, no rules). */
  ruleShape?: RuleShape;
  /** Slot backends of the Node router behind HAProxy, by client protocol (HTTP/1.0, `code` rules). */
  node?: { http: string; https: string };
  /** `server` lines by slot index: the dynos a starting haproxy serves from its first request. */
  servers?: ReadonlyMap<number, readonly string[]>;
}

/** Paths inside the data plane's directory. */
export const haproxyFiles = (dir: string) => ({
  config: `${dir}/haproxy.cfg`,
  hosts: `${dir}/hosts.map`,
  states: `${dir}/states.map`,
  crtList: `${dir}/certs.list`,
  /** Lua actions (lua-actions.ts). */
  lua: `${dir}/actions.lua`,
  /** H-code → description and page sentence, for the pages of errors HAProxy makes. */
  descs: `${dir}/descs.map`,
  pages: `${dir}/pages.map`,
});

/**
 * The stats socket of the `n`th haproxy started in `dir`. Each process has its own: a reload's
 * new haproxy takes the old one's listeners (-x), and a stats socket at the same path would be
 * one of them, so commands meant for one process would reach either.
 */
export const statsSocketPath = (dir: string, n: number): string => `${dir}/admin.${n}.sock`;

/** Name of slot backend `i`. */
export const slotName = (i: number): string => `slot${i}`;

/** Codes the data plane answers itself, before any dyno, from the app's state. */
export const STATE_CODES = ['H10', 'H14', 'H20', 'H80', 'H81'] as const;
/** One of STATE_CODES. */
export type StateCode = (typeof STATE_CODES)[number];

/**
 * Fields of the log line, in order. The line is a JSON array: user-controlled strings go
 * through HAProxy's `json(ascii)` converter, so nothing a client sends can forge a field or a
 * line, and the sink reads it with one `JSON.parse`.
 */
export const LOG_FIELDS = [
  'code',
  'method',
  'path',
  'host',
  'requestId',
  'fwd',
  'server',
  'connect',
  'response',
  'total',
  'status',
  'bytes',
  'tls',
  'termination',
  'slot',
  'e503',
] as const;

const str = (item: string): string => `\\"${item}\\"`;
const LOG_FORMAT = `[${[
  str('%[var(txn.code)]'),
  str('%[var(txn.method),json(ascii)]'),
  str('%[var(txn.path),json(ascii)]'),
  str('%[var(txn.host),json(ascii)]'),
  str('%[var(txn.rid)]'),
  str('%[var(txn.fwd),json(ascii)]'),
  str('%s'),
  '%Tc',
  '%Tr',
  '%Ta',
  '%ST',
  '%B',
  str('%[var(txn.tls)]'),
  str('%tsc'),
  str('%[var(txn.be)]'),
  str('%[var(txn.e503)]'),
].join(',')}]`;

// A space or a quote would end the string in the configuration; `%` starts a log-format item.
const lf = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%');

/**
 * The page (HTML) and body (JSON) of the H-code in variable `v`, as HAProxy log-format
 * strings: the code's description and sentence come from the code maps, the request id is
 * filled in per request. One rule pair serves every code (fewer rules per request).
 */
function pages(v: string): { html: string; json: string } {
  const fill = (text: string): string =>
    lf(text)
      .replaceAll('RID', '%[var(txn.rid)]')
      .replaceAll('LOWER', `%[var(${v}),lower]`)
      .replaceAll('CODE', `%[var(${v})]`)
      .replaceAll('DESC', `%[var(${v}),map_str(DESCS)]`)
      .replaceAll('PAGE', `%[var(${v}),map_str(PAGES)]`);
  return {
    html: fill(
      '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">' +
        '<title>DESC (CODE)</title></head><body><h1>DESC</h1><p>PAGE</p>' +
        '<p><small>CODE · request RID</small></p></body></html>',
    ),
    json: fill('{"id":"LOWER","code":"CODE","message":"DESC","detail":"PAGE","request_id":"RID"}'),
  };
}

/** ACLs of the answer rules (each proxy has its own). */
const WANTS = [
  '  acl WANTS_JSON req.hdr(accept) -m sub application/json',
  '  acl WANTS_HTML req.hdr(accept) -m sub text/html',
].join('\n');

/** The rule pair answering the code in txn.code with `status` when `cond` holds (JSON for API clients). */
function answer(status: number, cond: string, extra = ''): string[] {
  const { html, json } = pages('txn.code');
  const hdrs = `hdr Cache-Control "no-cache, no-store"${extra}`;
  return [
    `  http-request return status ${status} content-type "application/json; charset=utf-8" lf-string "${json}" ${hdrs} if ${cond} WANTS_JSON !WANTS_HTML`,
    `  http-request return status ${status} content-type "text/html; charset=utf-8" lf-string "${html}" ${hdrs} if ${cond}`,
  ];
}

/** A client may send several X-Forwarded-For lines: all are kept, in order, before the peer. */
function forwardedFor(): string {
  const out = [
    '  http-request set-var(txn.xff) req.fhdr_cnt(x-forwarded-for)',
    '  http-request set-var(txn.fwd) req.fhdr(x-forwarded-for,1) if { var(txn.xff) -m int ge 1 }',
  ];
  for (let i = 2; i <= MAX_FORWARDED_LINES; i++)
    out.push(
      `  http-request set-var-fmt(txn.fwd) "%[var(txn.fwd)], %[req.fhdr(x-forwarded-for,${i})]" if { var(txn.xff) -m int ge ${i} }`,
    );
  out.push(
    '  http-request set-var-fmt(txn.fwd) "%[var(txn.fwd)], %[src]" if { var(txn.fwd) -m found }',
    '  http-request set-var-fmt(txn.fwd) "%[src]" unless { var(txn.fwd) -m found }',
  );
  return out.join('\n');
}

/** Heroku answers a host no app serves with 404 and logs nothing (no H-code). */
function noSuchApp(): string {
  const html = lf(
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>No such app</title></head>' +
      '<body><h1>No such app</h1><p>There is no app here.</p></body></html>',
  );
  const json = lf(
    '{"id":"not_found","message":"No such app","detail":"There is no app here.","request_id":"REQUEST_ID"}',
  ).replace('REQUEST_ID', '%[var(txn.rid)]');
  const cond = 'unless { var(txn.be) -m found }';
  const hdrs = 'hdr Cache-Control "no-cache, no-store"';
  return [
    `  http-request return status 404 content-type "application/json; charset=utf-8" lf-string "${json}" ${hdrs} if WANTS_JSON !WANTS_HTML !{ var(txn.be) -m found }`,
    `  http-request return status 404 content-type "text/html; charset=utf-8" lf-string "${html}" ${hdrs} ${cond}`,
  ].join('\n');
}

/** Client X-Forwarded-For lines beyond this many are dropped from the chain. */
const MAX_FORWARDED_LINES = 8;

/** Error pages for answers HAProxy makes itself (timeouts, closed connections, refusals). */
function errorPages(): string[] {
  // HAProxy's own status → the H-code the log sink derives; `http-after-response` turns the
  // status into Heroku's 503. A 503 is H21 when a dyno was there to refuse, else H10: the slot
  // backend says which before connecting (txn.e503).
  const hdr = 'hdr Cache-Control "no-cache, no-store"';
  const ct = 'content-type "text/html; charset=utf-8"';
  const fixed = (code: string): string =>
    pages('txn.e503')
      .html.replaceAll('%[var(txn.e503)]', code)
      .replaceAll('%[var(txn.e503),map_str', `%[str(${code}),map_str`);
  const dynamic = pages('txn.e503').html;
  const page = (h: HCode): string => fixed(h.code);
  return [
    `  http-error status 504 ${ct} lf-string "${page(H_CODES.H12)}" ${hdr}`,
    `  http-error status 502 ${ct} lf-string "${page(H_CODES.H13)}" ${hdr}`,
    `  http-error status 503 ${ct} lf-string "${dynamic}" ${hdr}`,
    `  http-error status 400 ${ct} lf-string "${page(H_CODES.H25)}"`,
  ];
}

/**
 * H11: every dyno is at its in-flight cap (`maxconn` of each server) and the app's backlog
 * (HAProxy's queue, requests waiting for a free dyno) already holds `backlogPerDyno` requests
 * per dyno up. With no dyno up the queue is empty and the cap is 0: H21/H10 decide instead.
 */
function backlog(l: RouterLimits): string[] {
  return [
    WANTS,
    `  http-request set-var(txn.qcap) nbsrv,mul(${l.backlogPerDyno})`,
    '  http-request set-var(txn.code) str(H11) if { queue gt 0 } { queue,sub(txn.qcap) ge 0 }',
    ...answer(503, '{ var(txn.code) -m str H11 }'),
  ];
}

/**
 * H25 for a header name or value over the limits (HAProxy has no per-header limit, only the
 * whole head's, tune.bufsize). The regular expression runs only on heads long enough to hold
 * such a header. A value is counted as Node's parser reads it: without the spaces around it.
 */
function headerSizes(l: RouterLimits): string {
  const least = Math.min(l.headerName, l.headerValue);
  const name = `^[^:\\r\\n]{${l.headerName + 1}}`;
  const value = `^[^:\\r\\n]*:[ \\t]*[^ \\t\\r\\n][^\\r\\n]{${l.headerValue - 1},}[^ \\t\\r\\n]`;
  return `  http-request set-var(txn.code) str(H25) if { req.hdrs,length gt ${least} } { req.hdrs -m reg '(?m)${name}|${value}' }`;
}

/** Like Node's HTTP server (before any routing): an expectation other than 100-continue is a 417. */
function expectationFailed(): string {
  return '  http-request return status 417 if { req.fhdr(expect) -m found } !{ req.fhdr(expect) -m str -i 100-continue }';
}

/**
 * `Expect: 100-continue` is answered by the router, as Node's server does: HAProxy sends the
 * `100 Continue` itself when a rule waits for the body (here, for its first byte only, so
 * nothing is buffered), and drops the header; the dyno never sees one.
 */
function expectContinue(t: RouterTimeouts): string {
  return [
    `  http-request wait-for-body time ${t.headers}ms at-least 1 if { req.hdr(expect) -m str -i 100-continue }`,
    '  http-request del-header expect',
  ].join('\n');
}

/**
 * An HTTP/1.0 request of an app that takes requests goes to the Node router behind HAProxy:
 * HAProxy 2.6 forwards a request in the version it came in (no action, option or Lua call
 * rewrites it), and a dyno gets HTTP/1.1 from the router, as on the Node router. The Node
 * router runs the app's rules and taps and writes the log line (the slot names no app, the
 * sink drops HAProxy's); states are answered here first, as for any request.
 */
function http10(node: { http: string; https: string }): string {
  const is = '{ var(txn.node) -m found }';
  return [
    '  http-request set-var(txn.node) str(1) if { req.ver 1.0 } { var(txn.be) -m found } { var(txn.state) -m str ok }',
    `  http-request set-var(txn.be) str(${node.http}) if ${is} !{ ssl_fc }`,
    `  http-request set-var(txn.be) str(${node.https}) if ${is} { ssl_fc }`,
  ].join('\n');
}

/** The Node router added the platform's hop to the answer already. */
const NODE_VIA =
  '  http-after-response replace-header Via ^(.*),\\ 1\\.1\\ slipway$ \\1 if { var(txn.node) -m found }\n';

/** Render the whole configuration. */
export function renderHaproxyConfig(c: HaproxyConfigInput): string {
  const f = haproxyFiles(c.dir);
  const t = c.timeouts;
  const l = c.limits;
  const binds = c.http ? [`  bind ${c.http.host}:${c.http.port}`] : [];
  if (c.tls) binds.push(`  bind ${c.tls.host}:${c.tls.port} ssl crt-list ${c.tls.crtList} alpn h2,http/1.1`);
  const slots: string[] = [];
  for (let i = 0; i < c.slots; i++)
    slots.push(
      `backend ${slotName(i)}`,
      '  balance random(2)',
      '  retries 2',
      '  option redispatch 1',
      '  retry-on conn-failure',
      '  http-reuse safe',
      // The app has dynos (else the state map answered): a 503 here means every one refused
      // or is quarantined, which the Node router answers H21 too.
      '  http-request set-var(txn.e503) str(H21)',
      ...backlog(l),
      ...(c.servers?.get(i) ?? []).map((line) => `  ${line}`),
      '',
    );
  const text = `# Generated by @slipway/router (HAProxy data plane). Do not edit: every reload rewrites it.
global
  # expose-fd: a reload's new haproxy takes these very listening sockets (-x), so no
  # connection waiting in an old socket's queue is reset when the old process lets go.
  stats socket ${c.socket} mode 600 level admin expose-fd listeners
  stats timeout 30s
${c.threads ? `  nbthread ${c.threads}\n` : ''}  # Heroku's limit is 1000 headers; the check below answers H25 beyond it.
  tune.http.maxhdr ${l.headers + 1}
  tune.bufsize 65536
  tune.ssl.default-dh-param 2048
  log ring@slipwaylog len 65535 format raw local0 info
  # One Lua state per thread: a state shared by all threads runs under a global lock.
  lua-load-per-thread ${f.lua}

ring slipwaylog
  description "per-request log lines to the Node log sink"
  format raw
  maxlen 65535
  size 4194304
  timeout connect 5s
  timeout server 10s
  server sink 127.0.0.1:${c.logPort}

defaults
  mode http
  log global
  option dontlognull
  # On a soft stop (a reload), an idle kept-alive connection is not closed under a client
  # that may be sending on it: its next response says Connection: close.
  option idle-close-on-response
  # A client that half-closes after its request still gets the answer (as on the Node router).
  # HAProxy 2.6 does so by default; from 3.3 on option abortonclose is on in HTTP backends and
  # answers such a client 400, even once its request is at the dyno (seen with 3.4.7).
  no option abortonclose
  timeout connect ${t.connect}ms
  timeout client ${t.keepAlive}ms
  timeout http-request ${t.headers}ms
  timeout http-keep-alive ${t.keepAlive}ms
  # One timeout covers the first byte (H12) and idleness during the response (H15) in 2.6.
  timeout server ${t.firstByte}ms
  timeout tunnel ${t.idle}ms
  # A request waiting in the backlog counts its wait against the first-byte timeout (H12).
  timeout queue ${t.firstByte}ms
  log-format "${LOG_FORMAT}"
  # Generated ids only: HAProxy cuts unique ids at 128 bytes, and a kept client id may have 200.
  unique-id-format %[uuid(4)]

frontend routes
${binds.join('\n')}
${WANTS}
  http-request set-var(txn.e503) str(H10)
  http-request set-var(txn.method) method
  http-request set-var(txn.path) pathq
  http-request set-var(txn.tls) str(https) if { ssl_fc }
  http-request set-var(txn.tls) str(http) unless { ssl_fc }
  http-request set-var(txn.host) req.hdr(host),field(1,:),lower,regsub([.]$,)
  http-request set-var(txn.rid) req.fhdr(x-request-id) if { req.fhdr_cnt(x-request-id) eq 1 } { req.fhdr(x-request-id) -m reg ^[A-Za-z0-9+/=-]{20,200}$ }
  http-request set-var(txn.rid) unique-id unless { var(txn.rid) -m found }
${forwardedFor()}
  http-request set-var(txn.rl) method,length
  http-request set-var(txn.rl) url,length,add(txn.rl),add(10)
  http-request set-var(txn.be) var(txn.host),map(${f.hosts})
  http-request set-var(txn.state) var(txn.be),map(${f.states},ok)
  http-request set-var(txn.code) str(H25) if { var(txn.rl) -m int gt ${l.requestLine} }
  http-request set-var(txn.code) str(H25) if { req.fhdr_cnt -m int gt ${l.headers} }
  http-request set-var(txn.code) str(H25) if !{ req.fhdr_cnt(host) -m int eq 1 }
  http-request set-var(txn.code) str(H25) if { req.ver 1.0 } { req.fhdr_cnt(transfer-encoding) -m int gt 0 }
${headerSizes(l)}
${answer(400, '{ var(txn.code) -m found }', ' hdr Connection close').join('\n')}
${expectationFailed()}
${c.node ? http10(c.node) : '  # no Node router'}
${c.ruleShape ? ruleBlock(c.dir, c.ruleShape, { pages: pages('txn.code'), states: f.states }) : '  # no route rules'}
${noSuchApp()}
  http-request set-var(txn.code) var(txn.state) unless { var(txn.state) -m str ok }
${answer(503, '{ var(txn.code) -m found }').join('\n')}
${expectContinue(t)}
  http-request lua.${HOP_BY_HOP_ACTION} if { req.hdr(connection) -m reg -i ^(?!(keep-alive|close|upgrade)$) }
${c.ruleShape ? ruleRequestEdits(c.dir, c.ruleShape) : '  # no route rule edits'}
  http-request del-header x-request-id
  http-request del-header keep-alive
  http-request del-header proxy-connection
  http-request del-header te
  http-request del-header x-forwarded-for
  http-request del-header x-request-start
  http-request del-header x-forwarded-proto
  http-request del-header x-forwarded-port
  http-request set-header X-Request-Id %[var(txn.rid)]
  http-request set-header X-Forwarded-For %[var(txn.fwd)]
  http-request set-header X-Forwarded-Proto %[var(txn.tls)]
  http-request set-header X-Forwarded-Port %[dst_port]
  http-request set-header X-Request-Start %[date(0,ms)]
  http-request set-header Via "%[req.fhdr(via)], 1.1 slipway" if { req.fhdr(via) -m found }
  http-request set-header Via "1.1 slipway" unless { req.fhdr(via) -m found }
  http-response del-header keep-alive
  http-response set-header Via "%[res.fhdr(via)], 1.1 slipway" if { res.fhdr(via) -m found }
  http-response set-header Via "1.1 slipway" unless { res.fhdr(via) -m found }
  http-after-response set-header X-Request-Id %[var(txn.rid)] if { var(txn.rid) -m found }
  http-after-response set-header X-Request-Id %[unique-id] unless { var(txn.rid) -m found }
  http-after-response set-status 503 if { status 502 } || { status 504 }
  http-after-response set-header Retry-After 60 if { var(txn.code) -m str H80 }
  http-after-response set-header Via "1.1 slipway" unless { res.fhdr(via) -m found }
${c.node ? NODE_VIA : ''}${errorPages().join('\n')}
  use_backend %[var(txn.be)]

${slots.join('\n')}`;
  return text
    .replaceAll('map_str(DESCS)', `map_str(${f.descs})`)
    .replaceAll('map_str(PAGES)', `map_str(${f.pages})`);
}

/** Contents of the description and page maps (written beside the configuration). */
export function codeMaps(): { descs: string; pages: string } {
  const codes = Object.values(H_CODES);
  return {
    descs: codes.map((h) => `${h.code} ${h.desc}`).join('\n') + '\n',
    pages: codes.map((h) => `${h.code} ${h.page}`).join('\n') + '\n',
  };
}
