/**
 * The runtime's error catalogue: everything the API and the platform process can refuse.
 * Statuses follow Heroku's Platform API; the `id` users see is the code without its prefix.
 */
import { defineErrors } from '@slipway/core';

/** Coded errors of the reference runtime (state, releases, API, platform). */
export const runtimeErrors = defineErrors({
  SLIPWAY_ERR_RUNTIME_APP_NAME: {
    message: 'app name "{name}" is invalid',
    hint: 'Use 2–30 characters: a lower-case letter first, then lower-case letters, digits and dashes (e.g. my-app).',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_APP_EXISTS: {
    message: 'app {name} already exists',
    hint: 'Pick another name, or use the existing app with -a {name}.',
    status: 409,
  },
  SLIPWAY_ERR_RUNTIME_APP_NOT_FOUND: {
    message: 'app {name} was not found',
    hint: 'List your apps with `slipway apps`, or create it with `slipway apps:create {name}`.',
    status: 404,
  },
  SLIPWAY_ERR_RUNTIME_NOT_FOUND: {
    message: '{what} was not found',
    hint: '{hint}',
    status: 404,
  },
  SLIPWAY_ERR_RUNTIME_UNAUTHORIZED: {
    message: 'missing or invalid API token',
    hint: 'Send `Authorization: Bearer <token>`; the token is in <data-dir>/credentials.json or SLIPWAY_TOKEN.',
    status: 401,
  },
  SLIPWAY_ERR_RUNTIME_BAD_JSON: {
    message: 'request body is not valid JSON: {detail}',
    hint: 'Send a JSON object with Content-Type: application/json.',
    status: 400,
  },
  SLIPWAY_ERR_RUNTIME_PROVIDER: {
    message: 'add-on provider {name}: {detail}',
    hint: '{hint}',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_SOURCE_URL: {
    message: 'cannot build from {url}: {detail}',
    hint: 'Create a source with POST /sources, PUT the tar.gz to its put_url, then build with { "source_blob": { "url": <its get_url> } } within the hour; or POST the tar.gz itself.',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_BUILDPACK_RELATIVE: {
    message: 'buildpack {name} is a relative path, and a platform has no directory it could be relative to',
    hint: 'Give an absolute path on the platform host (a directory, or a .tgz from `npm pack`), e.g. {example}, a git URL or an npm package.',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_INVALID_BODY: {
    message: 'request body field {field} {detail}',
    hint: 'Fix {field}; see the API reference for {route}.',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_ROUTE: {
    message: 'no route for {method} {path}',
    hint: 'Check the method and path; resources live under /apps/:app/…',
    status: 404,
  },
  SLIPWAY_ERR_RUNTIME_BAD_PATH: {
    message: 'the request path {path} is malformed (a % must start an escape such as %20 of valid UTF-8)',
    hint: 'Percent-encode names in the path (encodeURIComponent), or check the URL for a stray %.',
    status: 400,
  },
  SLIPWAY_ERR_RUNTIME_BODY_TOO_LARGE: {
    message: 'upload is larger than {limit} bytes',
    hint: 'Remove large files (add them to .slugignore or .gitignore) or raise the platform upload limit.',
    status: 413,
  },
  SLIPWAY_ERR_RUNTIME_ARCHIVE: {
    message: 'source archive refused: {detail}',
    hint: 'Upload a gzip tarball of the app directory without absolute paths, .. segments or links leaving it (`slipway deploy` makes one).',
    status: 400,
  },
  SLIPWAY_ERR_RUNTIME_FORMATION: {
    message: 'cannot scale {type}: {detail}',
    hint: 'Scale a process type of the current release (see `slipway ps`) to 0–{max} with a known size ({sizes}).',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_NO_RELEASE: {
    message: 'app {app} has no release to {action}',
    hint: 'Deploy it first with `slipway deploy -a {app}`.',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_RELEASE_PHASE: {
    message: 'release phase of v{version} failed with exit code {code}; v{previous} keeps serving',
    hint: 'Fix the `release:` command in the Procfile (its output is in `slipway logs -a {app} --dyno release`).',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_RELEASE_FAILED: {
    message: 'release v{version} failed to go live: {detail}{serving}',
    hint: 'See `slipway logs -a {app}` for the dyno output (R10 means the web process did not bind $PORT in time).',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_BUILD_FAILED: {
    message: 'build {id} of {app} failed: {detail}',
    hint: 'The build output above says why; the running release is unchanged.',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_BUILD_WORKER: {
    message: 'build worker died: {detail}',
    hint: 'A buildpack crashed the build process; the running release is unchanged. Retry, or report the buildpack.',
    status: 500,
  },
  SLIPWAY_ERR_RUNTIME_ADDON: {
    message: 'add-on {service}: {detail}',
    hint: 'Installed add-on services: {known}. Use `service:plan`, e.g. {example}; `slipway addons:plans SERVICE` lists the plans.',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_ADDON_PROVIDER: {
    message: 'add-on provider {provider} failed to {action} {service}: {detail}',
    hint: 'Nothing was attached and no config var changed. Check the provider (its log above, its server or URL) and retry.',
    status: 502,
  },
  SLIPWAY_ERR_RUNTIME_ADDON_ACTION: {
    message: 'add-on {addon} ({service}) has no action "{action}"',
    hint: 'Its actions: {actions} (`GET /apps/{app}/addons/{addon}/actions`).',
    status: 404,
  },
  SLIPWAY_ERR_RUNTIME_ADDON_ACTION_METHOD: {
    message: 'action {action} of add-on {addon} changes things: call it with POST, not GET',
    hint: 'POST /apps/{app}/addons/{addon}/actions/{action} with the input as a JSON body.',
    status: 405,
  },
  SLIPWAY_ERR_RUNTIME_ADDON_GONE: {
    message: 'add-on {name} is not attached to {app} (already destroyed, or never created)',
    hint: 'List the attached add-ons with `slipway addons -a {app}`.',
    status: 404,
  },
  SLIPWAY_ERR_RUNTIME_ADDON_ATTACHMENT: {
    message: 'add-on attachment {name}: {detail}',
    hint: '{fix}',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_DOMAIN: {
    message: 'domain {hostname}: {detail}',
    hint: 'Use a lower-case host name such as www.example.com that no other app uses.',
    status: 422,
  },
  SLIPWAY_ERR_RUNTIME_ROUTER: {
    message: 'unknown router "{name}"',
    hint: 'Use one of {names} (platform.router in the config file, or slipway start --router).',
    status: 400,
  },
  SLIPWAY_ERR_RUNTIME_ROUTER_HAPROXY: {
    message: 'the haproxy router was chosen, but haproxy is not installed',
    hint: 'Install it (apt-get install haproxy), or choose --router node or auto.',
    status: 400,
  },
  SLIPWAY_ERR_RUNTIME_DATA_DIR: {
    message: 'cannot use data dir {dir}: {detail}',
    hint: 'Pass --data-dir with a writable directory, or fix its permissions.',
    status: 500,
  },
  SLIPWAY_ERR_RUNTIME_DATA_DIR_LOCKED: {
    message: 'data dir {dir} is in use by another running platform{holder}',
    hint: "Stop that platform first (SIGTERM or Ctrl-C), or pass a different --data-dir; two platforms on one data dir would kill each other's dynos and add-on servers.",
    status: 409,
  },
});
