/**
 * The conformance kit (after Heroku's kensa): drive a provider through its whole life and
 * report each check. In-process targets (a defineAddon plugin or a bare definition) run in a
 * real Kernel with a temporary data dir; remote targets (`{ url, manifest, password }`) are
 * driven through `remoteAddon` over HTTP, plus raw requests for the credential checks.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kernel, type ProvisionRequest, type ProvisionResult } from '@slipway/core';
import { configValueProblem } from './config-vars.js';
import { type AddonPlugin, defineAddon, isAddonPlugin } from './define-addon.js';
import type { AddonDefinition } from './definition.js';
import { basicAuth } from './http-util.js';
import {
  type AddonManifest,
  askedConfigVars,
  defaultPlan,
  manifestProblems,
  optionalConfigVars,
} from './manifest.js';
import type { LogWriter } from './redact.js';
import { remoteAddon } from './remote-addon.js';

/** A provider reachable over the partner API. */
export interface RemoteTarget {
  url: string;
  manifest: AddonManifest;
  password: string;
}

/** What the kit can check. */
export type ConformanceTarget = AddonPlugin<any, any> | AddonDefinition<any, any> | RemoteTarget;

/** One check's outcome. */
export interface ConformanceCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** The kit's report. */
export interface ConformanceReport {
  ok: boolean;
  checks: ConformanceCheck[];
}

/** Options of `runConformance`. */
export interface ConformanceOptions {
  /** Plans to change to (default every non-default plan, or the default one when alone). */
  plans?: string[];
  /** Provider options for in-process targets. */
  options?: Record<string, unknown>;
  /** Where in-process provider logs go (default: dropped, to keep test output clean). */
  log?: LogWriter;
}

function isRemote(t: ConformanceTarget): t is RemoteTarget {
  return typeof (t as RemoteTarget).url === 'string' && !!(t as RemoteTarget).manifest;
}

/** The check a manifest with optional config vars gets (after the deprovision checks). */
const OPTIONAL_CHECK = 'optional config vars are set only when their option asks';

/** True when a manifest declares optional config vars (false when it cannot be known). */
function hasOptionalVars(m: unknown): boolean {
  return !!m && Object.keys(optionalConfigVars(m as AddonManifest)).length > 0;
}

/** The names of the checks run for a target, in order. */
export function conformanceCheckNames(
  target: ConformanceTarget,
  opts: { optionalConfigVars?: boolean } = {},
): string[] {
  const names = [
    'manifest is valid',
    'provision returns a resource id',
    'config vars are exactly the declared ones and well-formed',
    'plan change succeeds and keeps the id',
    'repeated provision with the same uuid is idempotent',
    'deprovision succeeds',
    'second deprovision succeeds',
  ];
  if (opts.optionalConfigVars ?? hasOptionalVars(manifestOfTarget(target))) names.push(OPTIONAL_CHECK);
  if (isRemote(target))
    names.push('bad credentials are refused with 401', 'missing credentials are refused with 401');
  return names;
}

function manifestOfTarget(t: ConformanceTarget): unknown {
  if (isRemote(t)) return t.manifest;
  if (isAddonPlugin(t)) return t.manifest;
  return defineAddonManifest(t);
}

function defineAddonManifest(def: AddonDefinition<any, any>): unknown {
  try {
    return defineAddon(def).manifest;
  } catch (e) {
    return { invalid: (e as Error).message };
  }
}

/** What is wrong with `config` given the provision `options` (optional vars only when asked). */
function configProblem(
  manifest: AddonManifest,
  config: Record<string, string>,
  exact: boolean,
  options: Record<string, unknown> = {},
): string | undefined {
  const declared = manifest.api.config_vars;
  const optional = optionalConfigVars(manifest);
  const asked = askedConfigVars(manifest, options);
  const got = Object.keys(config);
  const extra = got.filter((n) => !declared.includes(n));
  if (extra.length) return `undeclared config vars: ${extra.join(', ')}`;
  const unasked = got.filter((n) => optional[n] && !asked.includes(n));
  if (unasked.length)
    return `optional config vars returned without their option: ${unasked.map((n) => `${n} (${optional[n]!.option})`).join(', ')}`;
  const missing = declared.filter((n) => (!optional[n] || asked.includes(n)) && !got.includes(n));
  if (exact && missing.length) return `declared but not returned: ${missing.join(', ')}`;
  for (const [k, v] of Object.entries(config)) {
    const p = configValueProblem(k, v);
    if (p) return `${k}: ${p}`;
  }
  return undefined;
}

/** Run every check against `target`; never throws for a provider failure (it is reported). */
export async function runConformance(
  target: ConformanceTarget,
  opts: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const checks: ConformanceCheck[] = [];
  // The manifest is made once (for a bare definition that means running defineAddon).
  const rawManifest = manifestOfTarget(target);
  const names = conformanceCheckNames(target, { optionalConfigVars: hasOptionalVars(rawManifest) });
  // Remote-only and optional checks come after the common ones; index them by name.
  const C = {
    optional: names.indexOf(OPTIONAL_CHECK),
    badAuth: names.indexOf('bad credentials are refused with 401'),
    noAuth: names.indexOf('missing credentials are refused with 401'),
  };
  const record = (i: number, ok: boolean, detail: string) => {
    if (i >= 0) checks.push({ name: names[i]!, ok, detail });
  };
  const skipRest = (from: number, why: string) => {
    for (let i = from; i < names.length; i++) record(i, false, `not run: ${why}`);
  };
  const msg = (e: unknown) =>
    (e as { describe?: () => string })?.describe?.() ?? (e as Error)?.message ?? String(e);

  const problems = manifestProblems(rawManifest);
  if (problems.length) {
    record(0, false, problems.map((p) => `${p.field} ${p.detail}`).join('; '));
    skipRest(1, 'the manifest is invalid');
    return { ok: false, checks };
  }
  const manifest = rawManifest as AddonManifest;
  record(
    0,
    true,
    `${manifest.id}: ${manifest.plans.length} plan(s), ${manifest.api.config_vars.length} config var(s)`,
  );

  /** The remote-only checks; they do not depend on provisioning having worked. */
  const credentialChecks = async () => {
    if (!isRemote(target)) return;
    const url = target.url.replace(/\/$/, '');
    const body = JSON.stringify({ uuid: randomUUID(), plan: defaultPlan(manifest), options: {} });
    const tries: [number, Record<string, string>][] = [
      [C.badAuth, { authorization: basicAuth(manifest.id, `${target.password}-wrong`) }],
      [C.noAuth, {}],
    ];
    for (const [i, auth] of tries) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
          body,
          signal: AbortSignal.timeout(25_000),
        });
        await res.arrayBuffer();
        record(i, res.status === 401, `answered ${res.status}`);
      } catch (e) {
        record(i, false, msg(e));
      }
    }
  };
  const kernel = new Kernel();
  let dataDir: string | undefined;
  let close: () => Promise<void> = async () => {};
  try {
    try {
      if (isRemote(target)) {
        const plugin = remoteAddon({ manifest, url: target.url, password: target.password });
        close = () => plugin.close();
        await kernel.use(plugin);
      } else {
        dataDir = await mkdtemp(join(tmpdir(), `slipway-conformance-${manifest.id}-`));
        const def = isAddonPlugin(target) ? target.definition : target;
        const plugin = defineAddon(def, { log: opts.log ?? (() => {}) });
        close = () => plugin.close();
        await kernel.use(plugin, { ...(opts.options ?? {}), dataDir });
        await kernel.start();
      }
    } catch (e) {
      record(1, false, `the provider could not start: ${msg(e)}`);
      skipRest(2, 'the provider could not start');
      return { ok: false, checks };
    }
    const uuid = randomUUID();
    const req: ProvisionRequest = {
      service: manifest.id,
      plan: defaultPlan(manifest),
      uuid,
      app: 'conformance-app',
      name: '',
      options: {},
    };
    let first: ProvisionResult | undefined;
    try {
      first = await kernel.hooks.provision.for(manifest.id).promise(req);
      if (!first || typeof first.id !== 'string' || !first.id)
        throw new Error(`no resource id in ${JSON.stringify(first)}`);
      record(1, true, `id ${first.id}`);
    } catch (e) {
      record(1, false, msg(e));
      for (let i = 2; i <= 6; i++) record(i, false, 'not run: provision failed');
      record(C.optional, false, 'not run: provision failed');
      await credentialChecks();
      return { ok: false, checks };
    }
    const bad = configProblem(manifest, first.config, true);
    record(2, !bad, bad ?? Object.keys(first.config).join(', '));

    const plans = opts.plans ?? manifest.plans.filter((p) => !p.default).map((p) => p.name);
    const targets = plans.length ? plans : [defaultPlan(manifest)];
    // A plan change may legitimately move the resource (a new URL); later checks compare with this.
    let current = first;
    try {
      for (const plan of targets) {
        const r = await kernel.hooks.planChange
          .for(manifest.id)
          .promise({ service: manifest.id, uuid, id: first.id, app: req.app, plan });
        if (r && r.id !== first.id) throw new Error(`plan change to ${plan} changed the id to ${r.id}`);
        const p = r && configProblem(manifest, r.config, false);
        if (p) throw new Error(`plan change to ${plan}: ${p}`);
        if (r) current = r;
      }
      record(3, true, `changed to ${targets.join(', ')}`);
    } catch (e) {
      record(3, false, msg(e));
    }

    try {
      const again = await kernel.hooks.provision.for(manifest.id).promise(req);
      const canon = (c: Record<string, string> = {}) => JSON.stringify(Object.entries(c).sort());
      const same = again?.id === first.id && canon(again.config) === canon(current.config);
      record(
        4,
        same,
        same ? `same id ${first.id}` : `got id ${again?.id} for the same uuid, first was ${first.id}`,
      );
    } catch (e) {
      record(4, false, msg(e));
    }

    const dreq = { service: manifest.id, uuid, id: first.id, app: req.app };
    for (const i of [5, 6]) {
      try {
        await kernel.hooks.deprovision.for(manifest.id).promise(dreq);
        record(i, true, 'ok');
      } catch (e) {
        record(i, false, msg(e));
      }
    }

    // Each optional var: a provision whose option asks for it returns it (and no other optional one).
    const optional = Object.entries(optionalConfigVars(manifest));
    if (optional.length) {
      const seen: string[] = [];
      try {
        for (const [name, { option }] of optional) {
          const oreq: ProvisionRequest = { ...req, uuid: randomUUID(), options: { [option]: 'true' } };
          const r = await kernel.hooks.provision.for(manifest.id).promise(oreq);
          if (!r) throw new Error(`provision with option ${option} returned nothing`);
          try {
            const p = configProblem(manifest, r.config, true, oreq.options);
            if (p) throw new Error(`with option ${option}: ${p}`);
          } finally {
            await kernel.hooks.deprovision
              .for(manifest.id)
              .promise({ service: manifest.id, uuid: oreq.uuid, id: r.id, app: req.app });
          }
          seen.push(`${name} with ${option}`);
        }
        record(C.optional, true, seen.join(', '));
      } catch (e) {
        record(C.optional, false, msg(e));
      }
    }

    await credentialChecks();
  } finally {
    await close().catch(() => {});
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
  return { ok: checks.every((c) => c.ok), checks };
}

/**
 * Register one mocha `it` per check (inside a `describe`), for a provider's own test suite.
 * `target` may be a function, called in `before`, for targets that exist only once a server runs.
 */
export function describeConformance(
  target: ConformanceTarget | (() => ConformanceTarget | Promise<ConformanceTarget>),
  opts: ConformanceOptions & {
    title?: string;
    kind?: 'in-process' | 'remote';
    /** For a function `target`: its manifest declares optional config vars (adds their check). */
    optionalConfigVars?: boolean;
  } = {},
): void {
  const probe: ConformanceTarget =
    typeof target === 'function'
      ? opts.kind === 'remote'
        ? ({ url: '', manifest: {}, password: '' } as unknown as RemoteTarget)
        : ({} as AddonDefinition)
      : target;
  const names = conformanceCheckNames(
    probe,
    opts.optionalConfigVars !== undefined ? { optionalConfigVars: opts.optionalConfigVars } : {},
  );
  describe(opts.title ?? 'add-on conformance', function () {
    this.timeout(120_000);
    let report: ConformanceReport | undefined;
    before(async () => {
      const t = typeof target === 'function' ? await target() : target;
      report = await runConformance(t, opts);
    });
    for (const name of names)
      it(name, () => {
        const c = report?.checks.find((x) => x.name === name);
        if (!c) throw new Error(`check "${name}" did not run`);
        if (!c.ok) throw new Error(`${name}: ${c.detail}`);
      });
  });
}
