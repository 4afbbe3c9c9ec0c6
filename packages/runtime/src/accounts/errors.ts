/** Coded errors of accounts, tokens, sessions and per-app access. */
import { defineErrors } from '@slipway/core';

/** What sign-in, tokens and the access rules can refuse. */
export const accountErrors = defineErrors({
  SLIPWAY_ERR_ACCOUNTS_LOGIN: {
    message: 'email or password is wrong',
    hint: 'Check both; the platform owner can reset a password with `slipway users:password EMAIL`.',
    status: 401,
  },
  SLIPWAY_ERR_ACCOUNTS_RATE_LIMITED: {
    message: 'too many sign-in attempts for {who}',
    hint: 'Wait {seconds} s before trying again.',
    status: 429,
  },
  SLIPWAY_ERR_ACCOUNTS_CSRF: {
    message: 'missing or wrong CSRF token on a {method} signed in with a session cookie',
    hint: 'Send the `csrf_token` of `GET /auth/session` in the X-CSRF-Token header (the dashboard does).',
    status: 403,
  },
  SLIPWAY_ERR_ACCOUNTS_SESSION_TYPE: {
    message: 'a browser sign-in is JSON, not {type}',
    hint: 'Send `{ email, password }` with Content-Type: application/json (the dashboard does); a form of another site cannot.',
    status: 415,
  },
  SLIPWAY_ERR_ACCOUNTS_APP_ACCESS: {
    message: 'you ({email}) do not have access to the app {app}',
    hint: "Ask the app's owner to run `slipway access:add {email} -a {app}`.",
    status: 403,
  },
  SLIPWAY_ERR_ACCOUNTS_OWNER_ONLY: {
    message: '{action} is for the owner of {app} (or the platform admin) only',
    hint: 'See the owner with `slipway access -a {app}`.',
    status: 403,
  },
  SLIPWAY_ERR_ACCOUNTS_ADMIN_ONLY: {
    message: '{method} {path} is for the platform admin only',
    hint: 'Sign in as the platform owner (its credentials are in <data-dir>/credentials.json).',
    status: 403,
  },
  SLIPWAY_ERR_ACCOUNTS_EMAIL: {
    message: 'email "{email}" is invalid',
    hint: 'Use an address like someone@example.com (at most 254 characters).',
    status: 422,
  },
  SLIPWAY_ERR_ACCOUNTS_PASSWORD: {
    message: 'password is too weak: {detail}',
    hint: 'Use at least 10 characters (a pass phrase is fine).',
    status: 422,
  },
  SLIPWAY_ERR_ACCOUNTS_USER_EXISTS: {
    message: 'a user with email {email} already exists',
    hint: 'Sign in as that user, or pick another email.',
    status: 409,
  },
  SLIPWAY_ERR_ACCOUNTS_USER_NOT_FOUND: {
    message: 'no user with email {email}',
    hint: 'The platform admin adds users with `slipway users:add {email}`.',
    status: 404,
  },
  SLIPWAY_ERR_ACCOUNTS_USER_IN_USE: {
    message: 'user {email} cannot be removed: {detail}',
    hint: '{hint}',
    status: 409,
  },
  SLIPWAY_ERR_ACCOUNTS_TOKEN_NOT_FOUND: {
    message: 'no authorization {id} of yours',
    hint: 'List yours with `slipway authorizations`.',
    status: 404,
  },
  SLIPWAY_ERR_ACCOUNTS_COLLABORATOR: {
    message: '{email} {detail} on {app}',
    hint: 'See who has access with `slipway access -a {app}`.',
    status: 409,
  },
});
