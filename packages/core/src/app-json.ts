/**
 * app.json: Heroku's app manifest (plus Dokku's `healthchecks`). Validated with a JSON Schema,
 * then normalised so consumers never see the shorthand forms (`"KEY": "value"`,
 * `"service:plan"`).
 */
import { coreErrors } from './errors.js';
import { checkSchema } from './schema.js';

/** One `env` entry after normalisation. */
export interface AppJsonEnv {
  description?: string;
  value?: string;
  /** Heroku's default is true: a value must exist (given, generated, or from `value`). */
  required: boolean;
  generator?: 'secret';
}

/** One add-on request after normalisation. */
export interface AppJsonAddon {
  /** `service:plan` or `service`. */
  plan: string;
  as?: string;
  options?: Record<string, unknown>;
}

/** A Dokku-style health check. */
export interface AppJsonHealthcheck {
  type?: 'startup' | 'liveness' | 'readiness';
  name?: string;
  path?: string;
  content?: string;
  attempts?: number;
  timeout?: number;
  wait?: number;
  initialDelay?: number;
}

/** A parsed, normalised app.json. */
export interface AppJson {
  name?: string;
  description?: string;
  keywords?: string[];
  website?: string;
  repository?: string;
  logo?: string;
  success_url?: string;
  stack?: string;
  env: Record<string, AppJsonEnv>;
  formation: Record<string, { quantity: number; size?: string }>;
  addons: AppJsonAddon[];
  buildpacks: { url: string }[];
  scripts: { postdeploy?: string; [name: string]: string | undefined };
  healthchecks: Record<string, AppJsonHealthcheck[]>;
}

const str = { type: 'string' };
/** JSON Schema of app.json as Heroku documents it. */
export const appJsonSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100 },
    description: str,
    keywords: { type: 'array', items: str },
    website: str,
    repository: str,
    logo: str,
    success_url: str,
    stack: str,
    image: str,
    env: {
      type: 'object',
      propertyNames: { pattern: '^[A-Z][A-Z0-9_]*$' },
      additionalProperties: {
        oneOf: [
          { type: 'string' },
          {
            type: 'object',
            properties: {
              description: str,
              value: str,
              required: { type: 'boolean' },
              generator: { enum: ['secret'] },
            },
            additionalProperties: false,
          },
        ],
      },
    },
    formation: {
      type: 'object',
      propertyNames: { pattern: '^[-\\w]{1,128}$' },
      additionalProperties: {
        type: 'object',
        properties: { quantity: { type: 'integer', minimum: 0, maximum: 100 }, size: str },
        additionalProperties: false,
      },
    },
    addons: {
      type: 'array',
      items: {
        oneOf: [
          { type: 'string', pattern: '^[a-z][a-z0-9-]*(:[a-z0-9][a-z0-9_.-]*)?$' },
          {
            type: 'object',
            required: ['plan'],
            properties: {
              plan: { type: 'string', pattern: '^[a-z][a-z0-9-]*(:[a-z0-9][a-z0-9_.-]*)?$' },
              as: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]*$' },
              options: { type: 'object' },
            },
            additionalProperties: false,
          },
        ],
      },
    },
    buildpacks: {
      type: 'array',
      items: { type: 'object', required: ['url'], properties: { url: { type: 'string', minLength: 1 } } },
    },
    scripts: { type: 'object', additionalProperties: str },
    environments: { type: 'object' },
    healthchecks: {
      type: 'object',
      additionalProperties: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            type: { enum: ['startup', 'liveness', 'readiness'] },
            name: str,
            path: { type: 'string', pattern: '^/' },
            content: str,
            attempts: { type: 'integer', minimum: 1 },
            timeout: { type: 'number', minimum: 0 },
            wait: { type: 'number', minimum: 0 },
            initialDelay: { type: 'number', minimum: 0 },
          },
        },
      },
    },
  },
} as const;

/** Parse app.json text. Throws SLIPWAY_ERR_APP_JSON_INVALID naming the field and the fix. */
export function parseAppJson(text: string): AppJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw coreErrors.SLIPWAY_ERR_APP_JSON_INVALID({
      field: '(file)',
      detail: `is not valid JSON: ${(e as Error).message}`,
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw coreErrors.SLIPWAY_ERR_APP_JSON_INVALID({ field: '(root)', detail: 'must be a JSON object' });
  const [problem] = checkSchema(appJsonSchema, raw);
  if (problem) throw coreErrors.SLIPWAY_ERR_APP_JSON_INVALID(problem as unknown as Record<string, unknown>);
  // biome-ignore lint/suspicious/noExplicitAny: checked against appJsonSchema just above: the schema is its type
  const r = raw as Record<string, any>;
  const env: Record<string, AppJsonEnv> = {};
  // biome-ignore lint/suspicious/noExplicitAny: as r, checked by the schema
  for (const [k, v] of Object.entries<any>(r.env ?? {})) {
    env[k] = typeof v === 'string' ? { value: v, required: true } : { ...v, required: v.required ?? true };
  }
  const formation: AppJson['formation'] = {};
  // biome-ignore lint/suspicious/noExplicitAny: as r, checked by the schema
  for (const [k, v] of Object.entries<any>(r.formation ?? {}))
    formation[k] = { quantity: v.quantity ?? 1, ...(v.size ? { size: v.size } : {}) };
  const { env: _e, formation: _f, addons, buildpacks, scripts, healthchecks, ...rest } = r;
  return {
    ...rest,
    env,
    formation,
    addons: (addons ?? []).map((a: string | AppJsonAddon) => (typeof a === 'string' ? { plan: a } : a)),
    buildpacks: buildpacks ?? [],
    scripts: scripts ?? {},
    healthchecks: healthchecks ?? {},
  } as AppJson;
}
