/** Request schemas of the custom domain routes (the answers' are in api/response-schemas.ts, shared with the CLI). */

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
