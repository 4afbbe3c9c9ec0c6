/** Request schemas of the log drain routes (the answers' are in api/response-schemas.ts, shared with the CLI). */

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
