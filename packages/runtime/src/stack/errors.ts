/**
 * Coded errors of stacks (`slipway stack:build`) and of the Docker dyno runtime that runs on them.
 */
import { defineErrors } from '@slipway/core';

/** Errors of building stacks and of running dynos in Docker. */
export const stackErrors = defineErrors({
  SLIPWAY_ERR_STACK_UNKNOWN: {
    message: 'unknown stack {name}',
    hint: 'Use one of: {known}.',
    status: 422,
  },
  SLIPWAY_ERR_STACK_NOT_BUILT: {
    message: 'stack {name} is not built on this machine (no roots in {cache})',
    hint: 'Build it from Debian packages with `sudo npx slipway stack:build {name}` (or `scripts/stack-setup {name}`), then try again.',
    status: 422,
  },
  SLIPWAY_ERR_STACK_BUILD_ROOT: {
    message: "builds cannot run in stack {name}'s build root: {detail}",
    hint: 'Builds in a stack need the platform to run as root with bubblewrap (`scripts/stack-setup` installs it); or `slipway stack:set` the platform default stack.',
    status: 422,
  },
  SLIPWAY_ERR_STACK_NO_SANDBOX: {
    message: 'a dyno of a slug built in stack {name} cannot run here: {detail}',
    hint: 'Run the platform as root with bubblewrap (`scripts/stack-setup` installs it) and build the stack (`sudo npx slipway stack:build {name}`), or use `--runtime docker`.',
  },
  SLIPWAY_ERR_STACK_ROOT: {
    message: 'building stack {name} needs root (debootstrap makes device nodes and chroots)',
    hint: 'Run `sudo npx slipway stack:build {name}` (or `.ci/run`, which does it once per machine).',
  },
  SLIPWAY_ERR_STACK_DEBOOTSTRAP: {
    message: 'debootstrap of {image} failed ({code}):\n{tail}',
    hint: 'Install debootstrap (apt-get install debootstrap) and check that the Debian mirror answers; a package missing from the suite is named above.',
  },
  SLIPWAY_ERR_STACK_IMPORT: {
    message: 'docker import of {image} failed: {detail}',
    hint: 'Check that the Docker engine runs (`docker info`) and has room for the image.',
  },
  SLIPWAY_ERR_STACK_NO_ENGINE: {
    message: 'the docker dyno runtime needs a Docker engine: {detail}',
    hint: 'Start one (`dockerd &`, or `.ci/run`), or run the platform with `--runtime local`.',
  },
  SLIPWAY_ERR_STACK_NO_SWARM: {
    message: 'the swarm dyno runtime needs this engine to be a Swarm manager (its swarm state: {state})',
    hint: "Run `docker swarm init --advertise-addr <this node's address>` (then `slipway nodes` prints the join command for other nodes), or use `--runtime docker`.",
  },
  SLIPWAY_ERR_STACK_NO_IMAGE: {
    message: 'stack image {image} is not in the Docker engine',
    hint: 'Build it from Debian packages with `sudo npx slipway stack:build {stack}` (no registry is used).',
  },
  SLIPWAY_ERR_STACK_SWARM_ONE_STACK: {
    message: "{app}'s release was built on stack {built}; the swarm runtime runs dynos on {stack} only",
    hint: 'Run `slipway stack:set {stack} -a {app}` and deploy again (the release now serving keeps serving), or run the platform with `--runtime docker` or the sandboxed local runtime, which run each slug in its own stack.',
    status: 422,
  },
  SLIPWAY_ERR_STACK_OCI_RUNTIME: {
    message: 'the Docker engine has no OCI runtime named "{name}" (it lists: {listed})',
    hint: 'Register it in /etc/docker/daemon.json under "runtimes" and reload the engine (`scripts/stack-setup` does this for crun), or leave the choice to the platform (`auto`: crun when it works here, else runc), in the config file\'s `"platform": { "docker": { "ociRuntime": … } }` or SLIPWAY_DOCKER_OCI_RUNTIME.',
  },
  SLIPWAY_ERR_STACK_DOCKER_NETWORK: {
    message: 'unknown Docker dyno network mode "{network}"',
    hint: 'Use `app` (the default: the dynos of an app share one network namespace) or `dyno` (each dyno its own), in the config file\'s `"platform": { "docker": { "network": … } }` or SLIPWAY_DOCKER_NETWORK.',
  },
  SLIPWAY_ERR_STACK_RUNTIME: {
    message: 'unknown dyno runtime "{name}"',
    hint: 'Use `auto` (the default: `sandbox` where the stack is built, else `local`), `local` (processes on this machine), `sandbox` (local processes in bubblewrap namespaces in the stack root) `docker` (one container per dyno) or `swarm` (dynos as services across the nodes of a Docker Swarm).',
    status: 422,
  },
});
