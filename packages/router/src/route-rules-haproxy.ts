/**
 * The route rules' part of the HAProxy data plane: the fixed rule block of the configuration
 * (one per shape, see `route-rules-compile.ts`) and the live application of compiled rules to
 * its maps over the stats socket, each map swapped atomically (prepare, fill, commit). Values
 * are added before the rules that point at them and pruned after, so no request ever sees a
 * rule without its action.
 */

import { routerErrors } from './errors.js';
import type { StatsSocket } from './haproxy/stats-socket.js';
import type { CompiledRules, RuleShape } from './route-rules-compile.js';

/** Map files of the rule block, in the data plane's directory. */
export const ruleFiles = (dir: string) => ({
  slots: `${dir}/rule-slots.map`,
  first: `${dir}/rule-first.map`,
  second: `${dir}/rule-second.map`,
  edits: `${dir}/rule-edits.map`,
  sources: `${dir}/rule-sources.map`,
  values: `${dir}/rule-values.map`,
});

/** Which map of `CompiledRules` goes to which file. */
const MAPS = ['slots', 'sources', 'first', 'second', 'edits'] as const;

/** A value of the matched rule (`txn.rule`) or edit set (`txn.redit`). */
const val = (v: string, field: string, values: string): string =>
  `var(${v}),concat(,,.${field}),map(${values})`;

/**
 * The rule block, placed after the request checks and before the host's 404 and the app's
 * state. `pages` renders an H-code page from `txn.code` (the template's own), `states` is the
 * state map (an app switch reads the new app's state).
 */
export function ruleBlock(
  dir: string,
  shape: RuleShape,
  o: { pages: { html: string; json: string }; states: string },
): string {
  const f = ruleFiles(dir);
  const v = f.values;
  const sig = [
    '%[var(txn.be)]',
    '%[var(txn.tls)]',
    '%[var(txn.host)]',
    `%[src,map_ip(${f.sources},-)]`,
    ...shape.headers.map((h) => `%[req.fhdr_cnt(${h})]:%[req.fhdr(${h}),url_enc]`),
    ...shape.cookies.map((c) => `%[req.cook_cnt(${c})]:%[req.cook(${c}),url_enc]`),
    '%[path]',
  ].join('|');
  const ruled = '{ var(txn.rule) -m found }';
  const out = [
    '  # Route rules (route-rules-haproxy.ts): compiled from the routeRules hook into the rule-* maps.',
    `  http-request set-var(txn.rf) var(txn.be),map(${f.slots}) if { var(txn.be) -m found }`,
    `  http-request set-var-fmt(txn.rs) "${sig}" if { var(txn.rf) -m found }`,
    `  http-request set-var(txn.rule) var(txn.rs),map_reg(${f.first}) if { var(txn.rf) -m found }`,
    `  http-request set-var(txn.rapp) ${val('txn.rule', 'app', v)} if ${ruled}`,
    // An app switch: the new app's state and rules (a switch to an app with no slot, `nil`, is a 404).
    '  http-request unset-var(txn.rule) if { var(txn.rapp) -m found }',
    '  http-request unset-var(txn.be) if { var(txn.rapp) -m str nil }',
    '  http-request set-var(txn.be) var(txn.rapp) if { var(txn.rapp) -m found } !{ var(txn.rapp) -m str nil }',
    `  http-request set-var(txn.state) var(txn.be),map(${o.states},ok) if { var(txn.be) -m found } { var(txn.rapp) -m found }`,
    `  http-request set-var-fmt(txn.rs) "${sig}" if { var(txn.be) -m found } { var(txn.rapp) -m found }`,
    `  http-request set-var(txn.rule) var(txn.rs),map_reg(${f.second}) if { var(txn.be) -m found } { var(txn.rapp) -m found }`,
    `  http-request set-var(txn.redit) var(txn.rs),map_reg(${f.edits}) if { var(txn.rs) -m found } { var(txn.be) -m found }`,
    ...nodeHandOver(shape, val('txn.rule', 'node', v)),
    // An answer: the router's page of an H-code (its sentence maybe the rule's), or a body.
    `  http-request set-var(txn.rst) ${val('txn.rule', 'status', v)} if ${ruled}`,
    `  http-request set-var(txn.code) ${val('txn.rule', 'code', v)} if ${ruled}`,
    `  http-request set-var(txn.rpage) ${val('txn.rule', 'page', v)},b64dec if ${ruled}`,
  ];
  const page = (s: string): string =>
    s.replaceAll(/%\[var\(txn\.code\),map_str\([^)]*PAGES?[^)]*\)\]/g, '%[var(txn.rpage)]');
  const html = page(o.pages.html);
  const json = page(o.pages.json);
  if (shape.statuses.length > 0)
    out.push(
      `  http-request set-var(txn.rpage) var(txn.code),map_str(PAGES) if { var(txn.code) -m found } !{ var(txn.rpage) -m found }`,
    );
  const hdrs = 'hdr Cache-Control "no-cache, no-store"';
  for (const s of shape.statuses) {
    const is = `{ var(txn.rst) -m str ${s} }`;
    out.push(
      `  http-request return status ${s} content-type "application/json; charset=utf-8" lf-string "${json}" ${hdrs} if ${is} { var(txn.code) -m found } WANTS_JSON !WANTS_HTML`,
      `  http-request return status ${s} content-type "text/html; charset=utf-8" lf-string "${html}" ${hdrs} if ${is} { var(txn.code) -m found }`,
      `  http-request return status ${s} content-type "text/html; charset=utf-8" lf-string "%[${val('txn.rule', 'body', v)},b64dec]" if ${is}`,
    );
  }
  out.push(
    `  http-request set-var-fmt(txn.rloc) "%[${val('txn.rule', 'loc', v)},b64dec]" if { ${val('txn.rule', 'redirect', v)} -m found }`,
    `  http-request set-var-fmt(txn.rloc) "%[var(txn.rloc)]%[pathq]" if { ${val('txn.rule', 'keep', v)} -m found }`,
  );
  for (const s of [301, 302, 307, 308])
    out.push(
      `  http-request redirect location "%[var(txn.rloc)]" code ${s} if { ${val('txn.rule', 'redirect', v)} -m str ${s} }`,
    );
  // The rule's own answer headers, then the edits (which win, as on the Node router).
  for (const n of shape.responseHeaders)
    for (const from of ['txn.rule', 'txn.redit'])
      out.push(
        `  http-after-response set-header ${n} "%[${val(from, `res.${n}`, v)},b64dec]" if { ${val(from, `res.${n}`, v)} -m found }`,
      );
  return out.join('\n');
}

/**
 * The rules' request header edits, placed after the hop-by-hop action: a client naming an
 * edited header in `Connection` drops its own copy, never the one the rule set (as on the
 * Node router, where the edits are applied after the hop-by-hop names are dropped).
 */
export function ruleRequestEdits(dir: string, shape: RuleShape): string {
  const v = ruleFiles(dir).values;
  const out = ["  # Route rules' request header edits (route-rules-haproxy.ts)."];
  for (const n of shape.requestRemove)
    out.push(`  http-request del-header ${n} if { ${val('txn.redit', `del.${n}`, v)} -m found }`);
  for (const n of shape.requestSet)
    out.push(
      `  http-request set-header ${n} "%[${val('txn.redit', `req.${n}`, v)},b64dec]" if { ${val('txn.redit', `req.${n}`, v)} -m found }`,
    );
  return out.join('\n');
}

/**
 * A `code` rule: the Node router takes the request (it runs every rule and tap itself, and
 * writes the log line: the slot names no app, so HAProxy's line is dropped by the sink).
 */
function nodeHandOver(shape: RuleShape, node: string): string[] {
  if (!shape.node) return [];
  const is = `{ ${node} -m found }`;
  return [
    `  http-request set-var(txn.be) str(${shape.node.http}) if ${is} !{ ssl_fc }`,
    `  http-request set-var(txn.be) str(${shape.node.https}) if ${is} { ssl_fc }`,
    `  http-request set-var(txn.state) str(ok) if ${is}`,
    `  http-request unset-var(txn.redit) if ${is}`,
    `  http-request set-var(txn.node) str(1) if ${is}`,
    `  http-request unset-var(txn.rule) if ${is}`,
    // (The answer's Via: haproxy-config.ts, for every request the Node router took.)
  ];
}

/** Empty map files for a new configuration (the control plane fills them). */
export function emptyRuleMaps(dir: string): string[] {
  return Object.values(ruleFiles(dir));
}

/** Applies compiled rules to one running HAProxy's maps. */
export class RuleMaps {
  private applied: Partial<Record<(typeof MAPS)[number] | 'values', string>> = {};
  private readonly reported = new Set<string>();

  constructor(
    private readonly socket: StatsSocket,
    private readonly dir: string,
    private readonly onProblem: (e: unknown) => void,
  ) {}

  /**
   * The maps' contents for `c`, for a haproxy about to start (it reads them from the files),
   * taken as applied.
   */
  prime(c: CompiledRules): [string, readonly string[]][] {
    this.report(c);
    const f = ruleFiles(this.dir);
    for (const m of MAPS) this.applied[m] = c[m].join('\n');
    this.applied.values = c.values.join('\n');
    return [...MAPS.map((m): [string, readonly string[]] => [f[m], c[m]]), [f.values, c.values]];
  }

  private report(c: CompiledRules): void {
    for (const p of c.problems)
      if (!this.reported.has(p)) {
        this.reported.add(p);
        this.onProblem(routerErrors.SLIPWAY_ERR_ROUTER_RULE_HAPROXY({ detail: p }));
      }
  }

  /** Make the maps hold `c`: values first (old and new), then the rules, then only the new values. */
  async apply(c: CompiledRules): Promise<void> {
    this.report(c);
    const f = ruleFiles(this.dir);
    const values = c.values.join('\n');
    const changed = MAPS.filter((m) => c[m].join('\n') !== this.applied[m]);
    if (changed.length === 0 && values === this.applied.values) return;
    if (values !== this.applied.values) {
      const old = this.applied.values ? this.applied.values.split('\n') : [];
      await this.replace(f.values, [...new Set([...old, ...c.values])]);
    }
    for (const m of changed) {
      await this.replace(f[m], c[m]);
      this.applied[m] = c[m].join('\n');
    }
    if (values !== this.applied.values) await this.replace(f.values, c.values);
    this.applied.values = values;
  }

  /** Atomic swap of a whole map, filled in batches (a runtime API line has a size limit). */
  private async replace(file: string, entries: readonly string[]): Promise<void> {
    const prepared = await this.socket.run(`prepare map ${file}`);
    const version = /version(?: created)?\s*[:=]?\s*(\d+)/i.exec(prepared)?.[1];
    if (version === undefined)
      throw routerErrors.SLIPWAY_ERR_ROUTER_DATA_PLANE({ command: `prepare map ${file}`, detail: prepared });
    for (let i = 0; i < entries.length; i += 40)
      await this.socket.batch(entries.slice(i, i + 40).map((e) => `add map @${version} ${file} ${e}`));
    await this.socket.batch([`commit map @${version} ${file}`]);
  }
}
