/** Request schemas of the one-off dyno routes. */

/** POST /apps/:app/dynos */
export const dynoCreateSchema = {
  type: 'object',
  required: ['command'],
  additionalProperties: false,
  properties: {
    command: { type: 'string', minLength: 1, maxLength: 16384 },
    attach: { type: 'boolean' },
    size: { type: 'string' },
    type: { type: 'string', pattern: '^run$' },
    node: { type: 'string', minLength: 1, maxLength: 255 },
    env: {
      type: 'object',
      additionalProperties: { type: 'string', maxLength: 32768 },
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    },
    tty: {
      type: 'object',
      required: ['columns', 'rows'],
      additionalProperties: false,
      properties: {
        columns: { type: 'integer', minimum: 1, maximum: 1000 },
        rows: { type: 'integer', minimum: 1, maximum: 1000 },
      },
    },
  },
} as const;
