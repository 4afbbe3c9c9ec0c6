/** JSON Schemas of the API's request bodies (validated with ajv before anything changes). */

/** POST /apps */
export const createAppSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 64 },
    /** The stack its builds run in (`apps:create --stack`); default the platform's. */
    stack: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{0,63}$' },
  },
} as const;

/** PATCH /apps/:app/config-vars: strings set, null unsets. */
export const configVarsSchema = {
  type: 'object',
  additionalProperties: { type: ['string', 'null'], maxLength: 32768 },
  maxProperties: 1000,
} as const;

const formationUpdate = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: { type: 'string', pattern: '^[-\\w]{1,128}$' },
    quantity: { type: 'integer', minimum: 0, maximum: 100 },
    size: { type: 'string', maxLength: 64 },
  },
} as const;

/** PATCH /apps/:app/formation */
export const formationBatchSchema = {
  type: 'object',
  required: ['updates'],
  additionalProperties: false,
  properties: {
    updates: { type: 'array', minItems: 1, maxItems: 50, items: { ...formationUpdate, required: ['type'] } },
  },
} as const;

/** PATCH /apps/:app/formation/:type */
export const formationOneSchema = formationUpdate;

/** POST /apps/:app/releases (rollback) */
export const rollbackSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { release: { type: ['string', 'integer'] } },
} as const;

/** POST /apps/:app/addons */
export const addonSchema = {
  type: 'object',
  required: ['plan'],
  additionalProperties: false,
  properties: {
    plan: { type: 'string', pattern: '^[a-z][a-z0-9-]*(:[a-z0-9-]+)?$' },
    name: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
    options: { type: 'object' },
  },
} as const;

/** POST /apps/:app/log-sessions */
export const logSessionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    lines: { type: 'integer', minimum: 1, maximum: 1500 },
    tail: { type: 'boolean' },
    source: { type: 'string', maxLength: 64 },
    dyno: { type: 'string', maxLength: 64 },
  },
} as const;
