/**
 * What a provider author writes: the add-on's identity, plans and config vars, and the functions
 * that create, change and destroy a resource. Each function gets a ProviderContext that carries
 * everything in (data dir, options, secrets, a redacting log, a process supervisor).
 */

import type { DeprovisionRequest, PlanChangeRequest, ProvisionRequest, ProvisionResult } from '@slipway/core';
import type { AddonActionDefinition } from './actions.js';
import type { AddonManifest, AddonPlan, OptionalConfigVar } from './manifest.js';
import type { ProviderLog } from './redact.js';
import type { Unprivileged, UnprivilegedOptions } from './run-as.js';
import type { Supervised, SuperviseOptions } from './supervise.js';

/** Given to every provider function. `S` is what `setup` returned. */
export interface ProviderContext<O = Record<string, unknown>, S = unknown> {
  /** The add-on id (its service name). */
  readonly id: string;
  /** A crypto-random URL-safe secret (base64url of `bytes`, default 24); never appears in logs. */
  secret(bytes?: number): string;
  /** Redacts every generated secret and every config value the provider returned. */
  readonly log: ProviderLog;
  /** This provider's own directory (`<platform data dir>/addons/<id>`), created. */
  readonly dataDir: string;
  /** Plugin options, validated against `optionsSchema` (defaults applied). */
  readonly options: O;
  /** What `setup` returned (undefined inside `setup` itself). */
  readonly state: S;
  /** Start a supervised child process; it is stopped when the provider closes. */
  supervise(opts: SuperviseOptions): Promise<Supervised>;
  /**
   * Who runs a backing server: an unprivileged account when the platform is root (see
   * `unprivileged`), logging permission changes to `log`.
   */
  runAs(opts?: Omit<UnprivilegedOptions, 'log'>): Promise<Unprivileged>;
}

/** An add-on provider, as passed to `defineAddon`. */
export interface AddonDefinition<O = Record<string, unknown>, S = unknown> {
  /** Service name, lower case (`postgres`); also the config var prefix (`POSTGRES_`). */
  id: string;
  /** Human name. */
  name: string;
  /** Plans; a string is a plan name. Exactly one must be `default` (or the only one). */
  plans: readonly (string | AddonPlan)[];
  /**
   * Config vars the provider returns: `<ID>_…` names (renamed per attachment: `--as PRIMARY`
   * turns `POSTGRES_URL` into `PRIMARY_URL`) and optional unprefixed aliases (`DATABASE_URL`),
   * which are set as declared.
   */
  configVars: readonly string[];
  /**
   * Config vars set only when a provision option asks for them, by name:
   * `{ DATABASE_URL: { option: 'database_url' } }`, asked with `options: { database_url: 'true' }`.
   * They are declared in the manifest's `api.config_vars` too; `provision` sees the options in
   * `req.options` and must return exactly the ones asked for.
   */
  optionalConfigVars?: Readonly<Record<string, OptionalConfigVar>>;
  /**
   * Other service names users may type for this add-on, such as Heroku's (`heroku-postgresql`):
   * app.json files and `addons:create` written for Heroku then reach this provider. Plans name
   * theirs in `aliases` (`{ name: 'shared', aliases: ['essential-*'] }`).
   */
  aliases?: readonly string[];
  /** semver range of kernels this provider works with. */
  kernel?: string;
  /** JSON Schema of the provider's plugin options. */
  optionsSchema?: object;
  /** Extra manifest `api` fields for the partner API (password, regions, production.base_url). */
  api?: Partial<Omit<AddonManifest['api'], 'config_vars'>>;
  /** Plugin name (default `addon-<id>`). */
  pluginName?: string;
  /** Runs once before any request: start backing servers, open pools. Its result is `ctx.state`. */
  setup?(ctx: ProviderContext<O, undefined>): S | Promise<S>;
  /** Create a resource; return its id and config under the declared names. */
  provision(req: ProvisionRequest, ctx: ProviderContext<O, S>): ProvisionResult | Promise<ProvisionResult>;
  /** Move a resource to another plan; return new config, or nothing when it did not change. */
  planChange?(
    req: PlanChangeRequest,
    ctx: ProviderContext<O, S>,
    // biome-ignore lint/suspicious/noConfusingVoidType: a provider whose config does not change just returns.
  ): ProvisionResult | undefined | void | Promise<ProvisionResult | undefined | void>;
  /** Destroy a resource and its data. */
  deprovision(req: DeprovisionRequest, ctx: ProviderContext<O, S>): void | Promise<void>;
  /**
   * Extra operations on a resource, by name (`backups:capture`, `inbox:list`): the platform
   * offers them at `/apps/:app/addons/:addon/actions/:name` without knowing this provider.
   * In-process providers only (the partner API has no such call).
   */
  actions?: Readonly<Record<string, AddonActionDefinition<O, S>>>;
}

/** The manifest of a definition (plans normalised; one default). */
export function manifestOf(def: AddonDefinition<any, any>): AddonManifest {
  const plans: AddonPlan[] = def.plans.map((p) => (typeof p === 'string' ? { name: p } : { ...p }));
  if (plans.length === 1 && plans[0]!.default === undefined) plans[0]!.default = true;
  const optional = def.optionalConfigVars ?? {};
  const configVars = [...def.configVars, ...Object.keys(optional).filter((n) => !def.configVars.includes(n))];
  const slipway = {
    ...(Object.keys(optional).length ? { optional_config_vars: JSON.parse(JSON.stringify(optional)) } : {}),
    ...(def.aliases?.length ? { aliases: [...def.aliases] } : {}),
  };
  return {
    id: def.id,
    name: def.name,
    plans,
    api: { ...(def.api ?? {}), config_vars: configVars },
    ...(Object.keys(slipway).length ? { slipway } : {}),
  };
}
