/** The add-on SDK's error catalogue: one code per thing a provider author or platform can meet. */
import { defineErrors } from '@slipway/core';

/** Coded errors of @slipway/addon-sdk. */
export const addonErrors = defineErrors({
  SLIPWAY_ERR_ADDON_MANIFEST: {
    message: 'add-on manifest{where}: {field} {detail}',
    hint: 'Fix {field} in the manifest; see the addon-sdk README "Manifest" for the shape (Heroku add-on manifest).',
    status: 400,
  },
  SLIPWAY_ERR_ADDON_PLAN_UNKNOWN: {
    message: 'add-on {addon} has no plan "{plan}"',
    hint: 'Pick one of: {plans}.',
    status: 422,
  },
  SLIPWAY_ERR_ADDON_CONFIG_UNDECLARED: {
    message: 'add-on {addon} returned config var {name}, which its manifest does not declare',
    hint: 'Declare {name} in api.config_vars, or stop returning it. Declared: {declared}.',
    status: 500,
  },
  SLIPWAY_ERR_ADDON_CONFIG_NOT_ASKED: {
    message:
      'add-on {addon} returned config var {name}, which is set only when provision option "{option}" asks for it',
    hint: 'Return {name} only when req.options.{option} asks for it (the add-on was created without -- --{option}).',
    status: 500,
  },
  SLIPWAY_ERR_ADDON_CONFIG_VALUE: {
    message: 'add-on {addon} returned an invalid value for config var {name}: {detail}',
    hint: 'Config values must be strings; *_URL values must be absolute URLs with a scheme and a host.',
    status: 500,
  },
  SLIPWAY_ERR_ADDON_RESULT: {
    message: 'add-on {addon} returned an invalid {action} result: {detail}',
    hint: 'Return { id, config, message? } with a non-empty string id that stays the same for the resource.',
    status: 500,
  },
  SLIPWAY_ERR_ADDON_UNKNOWN_RESOURCE: {
    message: 'add-on {addon} has no resource {id}',
    hint: 'Check the resource id; it may have been deprovisioned already.',
    status: 404,
  },
  SLIPWAY_ERR_ADDON_ACTION_UNKNOWN: {
    message: 'add-on {addon} has no action "{action}"',
    hint: 'Its actions: {actions}.',
    status: 404,
  },
  SLIPWAY_ERR_ADDON_ACTION_INPUT: {
    message: 'action {action} of add-on {addon}: input {field} {detail}',
    hint: 'List the actions and their input with `GET /apps/APP/addons/ADDON/actions`.',
    status: 422,
  },
  SLIPWAY_ERR_ADDON_READY_TIMEOUT: {
    message: 'supervised process {name} was not ready after {ms} ms',
    hint: 'Check its output above; raise readyTimeoutMs if it is only slow to start.',
  },
  SLIPWAY_ERR_ADDON_SPAWN: {
    message: 'cannot start supervised process {name} ({command}): {detail}',
    hint: 'Install {command} (or put it on PATH), or give its full path in the provider options.',
  },
  SLIPWAY_ERR_ADDON_RUN_AS: {
    message: 'cannot run {purpose} as {user}: {detail}',
    hint: 'The platform is root and {purpose} must run unprivileged: create the user (Debian packages of the server usually do), install util-linux for setpriv, or set the provider option "runAs" to an existing unprivileged user.',
  },
  SLIPWAY_ERR_ADDON_REMOTE: {
    message: 'add-on provider {addon} at {url}: {detail}',
    hint: 'Check that the provider is running, reachable and configured with the same id and password.',
    status: 502,
  },
  SLIPWAY_ERR_ADDON_REMOTE_TIMEOUT: {
    message: 'add-on provider {addon} at {url} did not answer {action} within {ms} ms',
    hint: 'Providers must answer within 3 s, or answer 202 and finish through the callback.',
    status: 504,
  },
  SLIPWAY_ERR_OSB_BROKER: {
    message: 'service broker {broker}: {detail}',
    hint: 'Check the broker URL, credentials and that it speaks Open Service Broker API 2.17.',
    status: 502,
  },
  SLIPWAY_ERR_OSB_OPERATION_FAILED: {
    message: 'service broker {broker}: {action} of {service} instance {id} failed: {detail}',
    hint: "Look at the broker's logs for the instance; retry once the cause is fixed.",
    status: 502,
  },
  SLIPWAY_ERR_ADDON_LOAD: {
    message: 'cannot load an add-on from {spec}: {detail}',
    hint: 'Give a package name installed here or a path to a module whose default export is defineAddon(...) (or a manifest .json with --url).',
    status: 400,
  },
  SLIPWAY_ERR_ADDON_SCAFFOLD: {
    message: 'cannot scaffold add-on {name} into {dir}: {detail}',
    hint: 'Use a lower-case name like "memcache" and an empty or new directory.',
    status: 400,
  },
  // The partner API's own answers (serve-addon.ts, callback-listener.ts), in the platform's
  // one error shape `{ id, code, message, hint }`.
  SLIPWAY_ERR_ADDON_HTTP_AUTH: {
    message: 'bad credentials',
    hint: 'Send Basic auth with the add-on id as the user and its api.password.',
    status: 401,
  },
  SLIPWAY_ERR_ADDON_HTTP_ROUTE: {
    message: 'no route {method} {path}; the partner API lives under {prefix}',
    hint: 'See the addon-sdk README "Partner API" for the routes.',
    status: 404,
  },
  SLIPWAY_ERR_ADDON_HTTP_METHOD: {
    message: '{method} is not allowed on {path}',
    hint: 'Allowed: {allow}.',
    status: 405,
  },
  SLIPWAY_ERR_ADDON_HTTP_GONE: {
    message: 'resource {id} is already deprovisioned',
    hint: 'Nothing left to do.',
    status: 410,
  },
  SLIPWAY_ERR_ADDON_HTTP_BODY: {
    message: 'request body: {detail}',
    hint: 'See the addon-sdk README "Partner API" for the body of this route.',
    status: 422,
  },
  SLIPWAY_ERR_ADDON_HTTP_JSON: {
    message: 'request body is not valid JSON: {detail}',
    hint: 'Send a JSON object with content-type application/json.',
    status: 400,
  },
  SLIPWAY_ERR_ADDON_HTTP_TOO_LARGE: {
    message: 'request body over {limit} bytes',
    hint: 'Send a smaller body, or raise bodyLimit of serveAddon.',
    status: 413,
  },
});
