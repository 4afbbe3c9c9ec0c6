/**
 * JSON Schemas of the API's answers (Heroku Platform API shapes) and the types derived from
 * them: render.ts returns these types (so a field missing from a schema fails to compile rather
 * than vanish from the answer), Fastify serialises answers through the schemas, /openapi.json
 * shows them, and the CLI reads answers through the same types.
 */
import type { FromSchema } from 'json-schema-to-ts';

const nullable = <T extends string>(type: T) => ({ type: [type, 'null'] }) as const;
/** A time stamp (ISO 8601). */
export const timestamp = { type: 'string' } as const;
/** `{ id, name }` of an app, in every answer about something of an app. */
export const appRef = {
  type: 'object',
  required: ['id', 'name'],
  additionalProperties: false,
  properties: { id: { type: 'string' }, name: { type: 'string' } },
} as const;
const status = { type: 'string', enum: ['pending', 'succeeded', 'failed'] } as const;
const idRef = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string' } },
} as const;
const versionRef = {
  type: 'object',
  required: ['version'],
  additionalProperties: false,
  properties: { version: { type: 'integer' } },
} as const;

/** An app (`stack`: the live slug's; null before the first deploy). */
export const appSchema = {
  type: 'object',
  required: [
    'id',
    'name',
    'stack',
    'web_url',
    'buildpacks',
    'maintenance',
    'current_release',
    'released_at',
    'created_at',
    'updated_at',
  ],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    stack: {
      anyOf: [
        {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string' } },
        },
        { type: 'null' },
      ],
    },
    /** The stack of the app's next build (`stack:set`); shown by `GET /apps/:app` and `POST /apps`. */
    build_stack: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: { name: { type: 'string' } },
    },
    web_url: { type: 'string' },
    buildpacks: { type: 'array', items: { type: 'string' } },
    maintenance: { type: 'boolean' },
    current_release: {
      anyOf: [
        {
          type: 'object',
          required: ['id', 'version'],
          additionalProperties: false,
          properties: { id: { type: 'string' }, version: { type: 'integer' } },
        },
        { type: 'null' },
      ],
    },
    released_at: nullable('string'),
    created_at: timestamp,
    updated_at: timestamp,
  },
} as const;
/** An app as the API answers it. */
export type ApiApp = FromSchema<typeof appSchema>;

/** A build, with the URL its output streams from. */
export const buildSchema = {
  type: 'object',
  required: [
    'id',
    'app',
    'status',
    'slug',
    'release',
    'error',
    'output_stream_url',
    'created_at',
    'updated_at',
  ],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    app: appRef,
    status,
    slug: { anyOf: [idRef, { type: 'null' }] },
    release: { anyOf: [versionRef, { type: 'null' }] },
    error: nullable('string'),
    output_stream_url: { type: 'string' },
    created_at: timestamp,
    updated_at: timestamp,
  },
} as const;
/** A build as the API answers it. */
export type ApiBuild = FromSchema<typeof buildSchema>;

/** A release (config var names only), with the user who made it when accounts are on. */
export const releaseSchema = {
  type: 'object',
  required: [
    'id',
    'app',
    'version',
    'description',
    'status',
    'current',
    'slug',
    'config_vars',
    'error',
    'created_at',
    'updated_at',
    'user',
  ],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    app: appRef,
    version: { type: 'integer' },
    description: { type: 'string' },
    status,
    current: { type: 'boolean' },
    slug: { anyOf: [idRef, { type: 'null' }] },
    config_vars: { type: 'array', items: { type: 'string' } },
    error: nullable('string'),
    created_at: timestamp,
    updated_at: timestamp,
    user: {
      anyOf: [
        {
          type: 'object',
          required: ['id', 'email'],
          additionalProperties: false,
          properties: { id: nullable('string'), email: { type: 'string' } },
        },
        { type: 'null' },
      ],
    },
  },
} as const;
/** A release as the API answers it. */
export type ApiRelease = FromSchema<typeof releaseSchema>;

/** One process type's formation. */
export const formationSchema = {
  type: 'object',
  required: ['app', 'type', 'quantity', 'size', 'command', 'updated_at'],
  additionalProperties: false,
  properties: {
    app: appRef,
    type: { type: 'string' },
    quantity: { type: 'integer' },
    size: { type: 'string' },
    command: nullable('string'),
    updated_at: timestamp,
  },
} as const;
/** A formation entry as the API answers it. */
export type ApiFormation = FromSchema<typeof formationSchema>;

/** A running dyno. */
export const dynoSchema = {
  type: 'object',
  required: ['id', 'app', 'name', 'type', 'state', 'release', 'port', 'node', 'created_at'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    app: appRef,
    name: { type: 'string' },
    type: { type: 'string' },
    state: { type: 'string', enum: ['starting', 'up', 'crashed', 'stopping', 'down'] },
    release: versionRef,
    port: nullable('integer'),
    /** The machine it runs on (swarm); null on one machine. */
    node: nullable('string'),
    created_at: timestamp,
  },
} as const;
/** A dyno as the API answers it. */
export type ApiDyno = FromSchema<typeof dynoSchema>;

/** An add-on (or an attachment of another app's add-on). */
export const addonSchema = {
  type: 'object',
  required: ['id', 'app', 'name', 'addon_service', 'plan', 'config_vars', 'attachment_of', 'created_at'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    app: appRef,
    name: { type: 'string' },
    addon_service: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: { name: { type: 'string' } },
    },
    plan: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: { name: { type: 'string' } },
    },
    config_vars: { type: 'array', items: { type: 'string' } },
    attachment_of: { anyOf: [idRef, { type: 'null' }] },
    created_at: timestamp,
  },
} as const;
/** An add-on as the API answers it. */
export type ApiAddon = FromSchema<typeof addonSchema>;

/** An app's config vars. */
export const configVarsAnswerSchema = {
  type: 'object',
  additionalProperties: { type: 'string' },
} as const;
/** Config vars as the API answers them. */
export type ApiConfigVars = Record<string, string>;

/** `POST /apps/:app/log-sessions`: where the log stream is. */
export const logSessionAnswerSchema = {
  type: 'object',
  required: ['logplex_url'],
  additionalProperties: false,
  properties: { logplex_url: { type: 'string' } },
} as const;
/** A log session as the API answers it. */
export type ApiLogSession = FromSchema<typeof logSessionAnswerSchema>;

/** A list of `item`. */
export const listOf = <S extends object>(item: S) => ({ type: 'array', items: item }) as const;
