/** Schemas of the custom domain routes: the request's, and the answer's with its type (the CLI reads it) and renderer. */
import type { FromSchema } from 'json-schema-to-ts';
import { ref } from '../api/render.js';
import { appRef, timestamp } from '../api/response-schemas.js';
import type { AppRecord, DomainRecord } from '../state/records.js';

/** A custom domain as stored: a lower-case host name of two labels or more. */
export const domainSchema = {
  type: 'object',
  required: ['hostname'],
  additionalProperties: false,
  properties: {
    hostname: {
      type: 'string',
      maxLength: 253,
      pattern: '^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$',
    },
  },
} as const;

/** A custom domain. */
export const domainAnswerSchema = {
  type: 'object',
  required: ['id', 'app', 'hostname', 'kind', 'created_at'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    app: appRef,
    hostname: { type: 'string' },
    kind: { type: 'string', enum: ['custom'] },
    created_at: timestamp,
  },
} as const;
/** A domain as the API answers it. */
export type ApiDomain = FromSchema<typeof domainAnswerSchema>;

/** A custom domain. */
export const renderDomain = (a: AppRecord, d: DomainRecord): ApiDomain => ({
  id: d.id,
  app: ref(a),
  hostname: d.hostname,
  kind: 'custom',
  created_at: d.createdAt,
});
