/**
 * Finding an add-on service and plan by what a user typed, including the other names providers
 * declare (`heroku-postgresql:essential-0` → `postgres:shared`): the service by its name or an
 * alias, the plan by its name, an exact alias, or a family alias ending in `*` (`standard-*`).
 * Pure: the catalogue is passed in.
 */
import type { AddonEntry, AddonPlanEntry } from './plugin.js';

/** What `service[:plan]` resolved to. `plan` is undefined when the service has no such plan. */
export interface AddonSpecMatch {
  entry: AddonEntry;
  /** The plan's own name; undefined when `asked` matched none. */
  plan: string | undefined;
  /** The plan name as typed (undefined: none given, the default plan applies). */
  asked: string | undefined;
  /** The alias that matched, service or plan, when one did (for the log: `heroku-postgresql → postgres`). */
  via: string[];
}

/** True when `alias` (exact, or a family `standard-*`) names `plan`. */
function aliasMatches(alias: string, plan: string): boolean {
  return alias.endsWith('*') ? plan.startsWith(alias.slice(0, -1)) : alias === plan;
}

/** The default plan of an entry: the one marked default, else the first. */
export function defaultAddonPlan(entry: AddonEntry): AddonPlanEntry | undefined {
  return entry.plans.find((p) => p.default) ?? entry.plans[0];
}

/** Resolve `service[:plan]` against the catalogue's entries; undefined when no service matches. */
export function matchAddonSpec(entries: Iterable<AddonEntry>, spec: string): AddonSpecMatch | undefined {
  const [service, asked] = spec.split(':', 2) as [string, string | undefined];
  const all = [...entries];
  const entry = all.find((e) => e.service === service) ?? all.find((e) => e.aliases?.includes(service));
  if (!entry) return undefined;
  const via = entry.service === service ? [] : [`${service} → ${entry.service}`];
  if (!asked) return { entry, plan: defaultAddonPlan(entry)?.name, asked, via };
  if (entry.plans.some((p) => p.name === asked)) return { entry, plan: asked, asked, via };
  // Exact aliases first, so `premium-0` can name one plan while `premium-*` names another.
  const byAlias =
    entry.plans.find((p) => p.aliases?.includes(asked)) ??
    entry.plans.find((p) => p.aliases?.some((a) => aliasMatches(a, asked)));
  if (byAlias) return { entry, plan: byAlias.name, asked, via: [...via, `${asked} → ${byAlias.name}`] };
  return { entry, plan: undefined, asked, via };
}
