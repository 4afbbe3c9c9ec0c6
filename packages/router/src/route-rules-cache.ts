/**
 * The Node router's copy of each app's usable route rules, per request host: the `routeRules`
 * taps (and the rules' checks) run on an app's first request after a change, not on every
 * request. Dropped when someone calls the kernel's `routeRulesChanged` hook or the route table
 * changes; an entry is also read again after `RULES_MAX_AGE_MS`, so a tap whose state changed
 * unannounced is seen as soon as on HAProxy (whose control plane polls as often).
 */
import { type Clock, type KernelHooks, type RouteRule, systemClock } from '@slipway/core';
import { usableRules } from './route-rules.js';

/** How long an app's rules are kept when no change is announced (ms). */
export const RULES_MAX_AGE_MS = 100;

/** Entries kept at most: a wildcard domain lets clients name any number of hosts. */
const MAX_ENTRIES = 10_000;

/** One counter per `routeRulesChanged` hook, bumped by a single tap however many routers read it. */
const versions = new WeakMap<KernelHooks['routeRulesChanged'], { n: number }>();

function versionOf(hook: KernelHooks['routeRulesChanged']): { n: number } {
  let v = versions.get(hook);
  if (!v) {
    const counter = { n: 0 };
    hook.tap('@slipway/router/rules-cache', () => {
      counter.n++;
    });
    versions.set(hook, counter);
    v = counter;
  }
  return v;
}

interface Entry {
  rules: readonly RouteRule[];
  at: number;
}

/** Options of a `RuleCache`. */
export interface RuleCacheOptions {
  rules: KernelHooks['routeRules'];
  /** The kernel's announcement of rule changes (absent: only the age and `clear` renew). */
  changed?: KernelHooks['routeRulesChanged'] | undefined;
  onError: (e: unknown) => void;
  clock?: Clock;
  maxAgeMs?: number;
}

/** Each app's usable rules for one host, kept until a change (see the file's comment). */
export class RuleCache {
  private byApp = new Map<string, Map<string, Entry>>();
  private size = 0;
  private readonly version: { n: number } | undefined;
  private seen = 0;
  private readonly clock: Clock;
  private readonly maxAgeMs: number;

  constructor(private readonly o: RuleCacheOptions) {
    this.version = o.changed ? versionOf(o.changed) : undefined;
    this.seen = this.version?.n ?? 0;
    this.clock = o.clock ?? systemClock;
    this.maxAgeMs = o.maxAgeMs ?? RULES_MAX_AGE_MS;
  }

  /** The usable rules of `app` for a request to `host`. */
  rules(app: string, host: string): readonly RouteRule[] {
    if (this.version !== undefined && this.version.n !== this.seen) {
      this.seen = this.version.n;
      this.clear();
    }
    const now = this.clock.now();
    const hit = this.byApp.get(app)?.get(host);
    if (hit !== undefined && now - hit.at < this.maxAgeMs) return hit.rules;
    const rules = usableRules(this.o.rules, app, [host], this.o.onError);
    if (this.size >= MAX_ENTRIES) this.clear();
    let hosts = this.byApp.get(app);
    if (hosts === undefined) {
      hosts = new Map<string, Entry>();
      this.byApp.set(app, hosts);
    }
    if (!hosts.has(host)) this.size++;
    hosts.set(host, { rules, at: now });
    return rules;
  }

  /** Forget every app's rules (the next request of each runs the taps again). */
  clear(): void {
    this.byApp = new Map();
    this.size = 0;
  }
}
