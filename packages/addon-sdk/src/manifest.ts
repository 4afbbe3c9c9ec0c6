/**
 * The add-on manifest, in the shape of Heroku's (`id`, `name`, `api.config_vars`, `api.password`,
 * `api.production.base_url` …) plus the one thing Heroku keeps elsewhere: `plans`.
 * Validated with ajv (core's shared instance) and then for the rules a schema cannot say.
 */
import { type AddonEntry, checkSchema, configPrefix } from '@slipway/core';
import { addonErrors } from './errors.js';

/** A plan of an add-on; exactly one has `default: true`. */
export interface AddonPlan {
  /** What users type after the colon: `postgres:hobby`. */
  name: string;
  description?: string;
  default?: boolean;
  /** Other services' plan names meaning this plan: `essential-0`, or a family `essential-*`. */
  aliases?: string[];
}

/** A config var set only when a provision option asks for it (a Slipway extension). */
export interface OptionalConfigVar {
  /** The provision option that asks for it (`database_url`: Heroku's `addons:create … -- --database_url`). */
  option: string;
  description?: string;
}

/** An add-on manifest (Heroku's addon-manifest.json, plus `plans`). */
export interface AddonManifest {
  /** Service name, lower case: `^[a-z][a-z0-9-]*$`. */
  id: string;
  /** Human name. */
  name: string;
  plans: AddonPlan[];
  api: {
    /** Config vars the provider sets: `<ID>_…` (renamed by attachment) or unprefixed aliases. */
    config_vars: string[];
    /** Partner API password (Basic auth `id:password`); only for remote providers. */
    password?: string;
    sso_salt?: string;
    regions?: string[];
    requires?: string[];
    version?: string;
    production?: { base_url: string; sso_url?: string };
    test?: { base_url: string; sso_url?: string } | string;
  };
  /**
   * Slipway's extensions, outside Heroku's fields (`herokuManifest` strips them). Vars named in
   * `optional_config_vars` are also listed in `api.config_vars` (every var a provider may return
   * is declared there, as Heroku requires) but are set only when the provision option asks.
   */
  slipway?: {
    optional_config_vars?: Record<string, OptionalConfigVar>;
    /** Other service names users may type for this one (`heroku-postgresql` for `postgres`). */
    aliases?: string[];
  };
}

const CONFIG_VAR = '^[A-Z][0-9A-Z_]+$';
const OPTION_NAME = '^[a-z][a-z0-9_-]*$';

/** JSON Schema of an add-on manifest. */
// No $id: core's shared ajv instance would refuse a second copy of this SDK compiling the same id.
export const addonManifestSchema = Object.freeze({
  type: 'object',
  required: ['id', 'name', 'plans', 'api'],
  properties: {
    id: { type: 'string', pattern: '^[a-z][a-z0-9-]*$', maxLength: 64 },
    name: { type: 'string', minLength: 1 },
    plans: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
          description: { type: 'string' },
          default: { type: 'boolean' },
          aliases: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*\\*?$' } },
        },
      },
    },
    api: {
      type: 'object',
      required: ['config_vars'],
      properties: {
        config_vars: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { type: 'string', pattern: CONFIG_VAR },
        },
        password: { type: 'string', minLength: 8 },
        sso_salt: { type: 'string' },
        regions: { type: 'array', items: { type: 'string' } },
        requires: { type: 'array', items: { type: 'string' } },
        version: { type: 'string' },
        production: {
          type: 'object',
          required: ['base_url'],
          properties: {
            base_url: { type: 'string', pattern: '^https?://.+/heroku/resources$' },
            sso_url: { type: 'string' },
          },
        },
        test: {
          anyOf: [
            { type: 'string' },
            { type: 'object', required: ['base_url'], properties: { base_url: { type: 'string' } } },
          ],
        },
      },
    },
    slipway: {
      type: 'object',
      properties: {
        aliases: {
          type: 'array',
          uniqueItems: true,
          items: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
        },
        optional_config_vars: {
          type: 'object',
          propertyNames: { pattern: CONFIG_VAR },
          additionalProperties: {
            type: 'object',
            required: ['option'],
            additionalProperties: false,
            properties: {
              option: { type: 'string', pattern: OPTION_NAME },
              description: { type: 'string' },
            },
          },
        },
      },
    },
  },
});

/** The kernel catalogue's entry for a provider of `manifest` registered by plugin `plugin`. */
export function catalogEntry(manifest: AddonManifest, plugin: string, service = manifest.id): AddonEntry {
  return {
    service,
    name: manifest.name,
    plugin,
    plans: manifest.plans,
    configVars: manifest.api.config_vars,
    ...(manifest.slipway?.aliases ? { aliases: manifest.slipway.aliases } : {}),
  };
}

/** One problem found in a manifest. */
export interface ManifestProblem {
  field: string;
  detail: string;
}

/** Every problem of `manifest` (empty when valid), schema problems first. */
export function manifestProblems(manifest: unknown): ManifestProblem[] {
  // checkSchema applies defaults in place; validate a copy so callers' objects stay theirs.
  const copy = JSON.parse(JSON.stringify(manifest ?? null));
  const problems = checkSchema(addonManifestSchema, copy);
  if (problems.length) return problems;
  const m = copy as AddonManifest;
  const defaults = m.plans.filter((p) => p.default).length;
  if (defaults !== 1)
    problems.push({
      field: 'plans',
      detail: `must have exactly one plan with "default": true (found ${defaults})`,
    });
  const names = m.plans.map((p) => p.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) problems.push({ field: 'plans', detail: `has plan "${dup}" twice` });
  const prefix = `${configPrefix(m.id)}_`;
  if (!m.api.config_vars.some((v) => v.startsWith(prefix)))
    problems.push({
      field: 'api.config_vars',
      detail: `must declare at least one var prefixed by the add-on id, e.g. ${prefix}URL`,
    });
  for (const name of Object.keys(optionalConfigVars(m)))
    if (!m.api.config_vars.includes(name))
      problems.push({
        field: `slipway.optional_config_vars.${name}`,
        detail: `must also be listed in api.config_vars (every var a provider may return is declared there)`,
      });
  return problems;
}

/** The manifest's optional config vars (empty when it has none). */
export function optionalConfigVars(manifest: AddonManifest): Record<string, OptionalConfigVar> {
  return manifest.slipway?.optional_config_vars ?? {};
}

/**
 * True when a provision option value asks for something. Heroku passes `-- --flag` as the
 * string "true" and `-- --flag value` as "value"; "false", "0" and "" do not ask.
 */
export function optionAsked(value: unknown): boolean {
  if (typeof value === 'string') return value !== '' && value !== 'false' && value !== '0';
  return value === true || (typeof value === 'number' && value !== 0);
}

/** The optional vars that `options` (a provision request's) ask for. */
export function askedConfigVars(manifest: AddonManifest, options: Record<string, unknown> = {}): string[] {
  return Object.entries(optionalConfigVars(manifest))
    .filter(([, v]) => optionAsked(options[v.option]))
    .map(([name]) => name);
}

/** The manifest as Heroku-shaped consumers expect it: Slipway's extensions left out. */
export function herokuManifest(manifest: AddonManifest): Omit<AddonManifest, 'slipway'> {
  const { slipway: _extensions, ...rest } = manifest;
  return rest;
}

/** Validate a manifest; throws SLIPWAY_ERR_ADDON_MANIFEST naming the first bad field. */
export function validateManifest(manifest: unknown, where?: string): AddonManifest {
  const [p] = manifestProblems(manifest);
  if (p)
    throw addonErrors.SLIPWAY_ERR_ADDON_MANIFEST({
      where: where ? ` (${where})` : '',
      field: p.field,
      detail: p.detail,
    });
  return manifest as AddonManifest;
}

/** The default plan's name. */
export function defaultPlan(manifest: AddonManifest): string {
  return (manifest.plans.find((p) => p.default) ?? manifest.plans[0]!).name;
}

/** The plan, or SLIPWAY_ERR_ADDON_PLAN_UNKNOWN. An empty plan means the default one. */
export function resolvePlan(manifest: AddonManifest, plan: string | undefined): string {
  if (!plan) return defaultPlan(manifest);
  if (manifest.plans.some((p) => p.name === plan)) return plan;
  throw addonErrors.SLIPWAY_ERR_ADDON_PLAN_UNKNOWN({
    addon: manifest.id,
    plan,
    plans: manifest.plans.map((p) => p.name).join(', '),
  });
}
