/**
 * Coded errors of the dyno manager and the local dyno runtime. Kept beside the dyno code so
 * that another runtime (Docker, Swarm) can reuse the same codes for the same failures.
 */
import { defineErrors } from '@slipway/core';

/** Errors of dynos: boot, healthcheck, slugs, spawning. */
export const dynoErrors = defineErrors({
  SLIPWAY_ERR_DYNO_BOOT_TIMEOUT: {
    message:
      '{app} v{release}: {dyno} did not bind $PORT within {seconds} s (R10); v{previous} keeps serving',
    hint: 'Make the web process listen on process.env.PORT (0.0.0.0 or localhost) and start faster; its output is in `slipway logs -a {app} --dyno {dyno}`.',
    status: 422,
  },
  SLIPWAY_ERR_DYNO_BOOT_CRASHED: {
    message: '{app} v{release}: {dyno} exited with status {code} while booting; v{previous} keeps serving',
    hint: 'Run the command locally or with `slipway run -a {app}` to see why it exits; its output is in `slipway logs -a {app} --dyno {dyno}`.',
    status: 422,
  },
  SLIPWAY_ERR_DYNO_HEALTHCHECK: {
    message:
      '{app} v{release}: {dyno} answered the healthcheck {path} with {detail}; v{previous} keeps serving',
    hint: 'Make {path} answer 2xx once the app is ready, or fix the healthcheck path in app.json.',
    status: 422,
  },
  SLIPWAY_ERR_DYNO_NO_COMMAND: {
    message:
      '{app} v{release}: formation has {quantity} {type} dyno(s) but the release has no {type} process type',
    hint: 'Add a `{type}:` line to the Procfile, or scale {type} to 0.',
    status: 422,
  },
  SLIPWAY_ERR_DYNO_SIZE: {
    message: 'unknown dyno size {size}',
    hint: 'Use one of: {known}.',
    status: 422,
  },
  SLIPWAY_ERR_DYNO_SLUG: {
    message: 'cannot unpack slug {checksum}: {detail}',
    hint: 'The slug store lost or corrupted the archive, or it names paths outside the app (`..`, links out); rebuild the app (`slipway deploy`) to make a new slug.',
  },
  SLIPWAY_ERR_DYNO_RUN_NODE: {
    message: 'cannot run {dyno} of {app} on node {node}: {detail}',
    hint: 'Name a node that `slipway nodes` lists as ready and active ({known}), or leave --node out to let the platform choose.',
    status: 422,
  },
  SLIPWAY_ERR_DYNO_SPAWN: {
    message: 'cannot start {dyno} of {app}: {detail}',
    hint: 'Check that bash is installed and that the data dir {dataDir} is writable and readable by the dyno user.',
  },
  SLIPWAY_ERR_DYNO_USER: {
    message: 'dyno user {user} does not exist: {detail}',
    hint: 'Create it (useradd --system --no-create-home {user}), or pass runAsUser: "nobody" or false.',
  },
  SLIPWAY_ERR_DYNO_NODE: {
    message: 'swarm node {node}: {detail}',
    hint: 'Run `slipway nodes` on the manager (the engine must be a Swarm manager: `docker swarm init`) and use a node id or hostname it lists; a node that is still up is removed with --force, or drained first.',
    status: 422,
  },
  SLIPWAY_ERR_DYNO_CLOSED: {
    message: 'the dyno manager is closed',
    hint: 'Create a new DynoManager; a closed one starts no dynos.',
  },
});
