/** Schemas of the log drain routes: the requests', and the answer's with its type (the CLI reads it) and renderer. */
import type { FromSchema } from 'json-schema-to-ts';
import { ref } from '../api/render.js';
import { appRef, timestamp } from '../api/response-schemas.js';
import type { AppRecord, DrainRecord } from '../state/records.js';

/** The URL schemes a drain may have, checked again after the URL checks of drain-url.ts. */
export const drainUrlSchema = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: { url: { type: 'string', pattern: '^(https?|syslog(\\+tls)?)://', maxLength: 2048 } },
} as const;

/** POST /apps/:app/log-drains */
export const drainCreateSchema = {
  type: 'object',
  required: ['url'],
  properties: { url: { type: 'string', maxLength: 2048 } },
} as const;

/** A log drain. */
export const drainAnswerSchema = {
  type: 'object',
  required: ['id', 'app', 'url', 'token', 'created_at'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    app: appRef,
    url: { type: 'string' },
    token: { type: 'string' },
    created_at: timestamp,
  },
} as const;
/** A log drain as the API answers it. */
export type ApiDrain = FromSchema<typeof drainAnswerSchema>;

/** A log drain. */
export const renderDrain = (a: AppRecord, d: DrainRecord): ApiDrain => ({
  id: d.id,
  app: ref(a),
  url: d.url,
  token: d.token,
  created_at: d.createdAt,
});
