/**
 * The buildpack SDK's error catalogue. Errors raised inside a buildpack carry its id as their
 * origin (`plugin: 'buildpack nodejs'`), so the user reads `[buildpack nodejs] …`.
 */
import { defineErrors, SlipwayError } from '@slipway/core';

/** Coded errors of `@slipway/buildpack-sdk`. */
export const buildpackErrors = defineErrors({
  SLIPWAY_ERR_BUILDPACK_FAILED: {
    message: '{hook} failed: {detail}',
    hint: 'This is an error inside the buildpack {buildpack}; its output above says more. Fix the app or report it to the buildpack author.',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_FAIL: {
    message: '{message}',
    hint: '{hint}',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_COMMAND_FAILED: {
    message: '`{command}` exited with code {code}{tail}',
    hint: 'The output above shows why `{command}` failed; fix the app (or the command) and build again.',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_COMMAND_NOT_FOUND: {
    message: 'cannot run `{command}`: {detail}',
    hint: 'Install {program} on the build machine (or put it on PATH), or make the buildpack install it first.',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_COMMAND_ABORTED: {
    message: '`{command}` was stopped because the build was cancelled or timed out',
    hint: 'Make the step faster (cache its inputs) or raise the build timeout.',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_VERSION: {
    message:
      '{tool} {installed} is installed but the app asks for {constraint}; change the {tool} version the app asks for or install {tool} {constraint}',
    hint: 'Ask for a version range that includes {installed} (e.g. "{major}.x"), or install a {tool} that matches {constraint} on the build machine.',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_VERSION_RANGE: {
    message: 'the app asks for {tool} "{constraint}", which is not a version or version range',
    hint: 'Write a version such as 20, 20.x, 3.11 or a range such as ">=18 <21".',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_RUNTIME_UNAVAILABLE: {
    message: '{file} asks for {tool} {constraint}, which {source} does not have; available: {available}',
    hint: 'Ask for one of the available versions in {file} and push again.',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_RUNTIME_NEEDS_STACK: {
    message:
      '{file} asks for {tool} {constraint}: {source} has {tool} {version}, but its build needs {needs}, newer than this build machine has; available here: {available}',
    hint: 'Ask for one of the versions available here, or run builds and dynos in a stack whose C library runs {tool} {version}: `slipway stack:set {stack}` and push again (its roots are made by `sudo npx slipway stack:build {stack}`).',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_RUNTIME_DOWNLOAD: {
    message: 'downloading {tool} {version} from {url} failed: {detail}',
    hint: 'Check that the registry is reachable from the build machine and build again; a corrupt download is never used.',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_JSON: {
    message: '{file} is not valid JSON: {detail}',
    hint: 'Fix the JSON syntax of {file} (a JSON validator shows the exact spot).',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_NAME: {
    message: '{what} "{name}" is invalid: {detail}',
    hint: 'Use letters, digits, dots, dashes and underscores only.',
    status: 400,
  },
  SLIPWAY_ERR_BUILDPACK_DEFINITION: {
    message: 'buildpack definition {id} is invalid: {detail}',
    hint: 'A buildpack is defineBuildpack({ id, name, detect(ctx), compile(ctx), release?(ctx) }); see the SDK README.',
    status: 400,
  },
  SLIPWAY_ERR_BUILDPACK_DUPLICATE: {
    message: 'buildpack id {id} is registered twice (by {first} and {second})',
    hint: 'Load each buildpack once; two buildpacks may not share an id.',
    status: 400,
  },
  SLIPWAY_ERR_BUILDPACK_CLASSIC_INVALID: {
    message: '{dir} is not a classic buildpack: {detail}',
    hint: 'A classic buildpack has executable bin/detect and bin/compile (and optionally bin/release); chmod +x them.',
    status: 400,
  },
  SLIPWAY_ERR_BUILDPACK_CLASSIC_RELEASE: {
    message: 'bin/release printed invalid YAML: {detail}',
    hint: 'bin/release must print YAML such as "default_process_types:\\n  web: ./server".',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_RESOLVE: {
    message: 'cannot load buildpack {specifier}: {detail}',
    hint: 'Give an installed buildpack id, a directory (classic bin/* or a JS package), an npm package name or a git URL ending in .git.',
    status: 400,
  },
  SLIPWAY_ERR_BUILDPACK_NPM: {
    message: 'npm install of buildpack {spec} failed: {detail}',
    hint: 'Check the package name and version (npm view {spec}) and that the npm registry is reachable.',
    status: 400,
  },
  SLIPWAY_ERR_BUILDPACK_GIT: {
    message: 'git clone of {url} failed: {detail}',
    hint: 'Check the URL and that git can reach it (git clone --depth 1 {url}).',
    status: 400,
  },
  SLIPWAY_ERR_BUILDPACK_NOT_A_BUILDPACK: {
    message: 'plugin {plugin} registers no buildpack',
    hint: 'Pass a plugin made with defineBuildpack() or classicBuildpack(), or the BuildpackDefinition itself.',
    status: 400,
  },
  SLIPWAY_ERR_BUILDPACK_SLUG_EXITED: {
    message: '`{command}` exited with {status} before it listened on port {port}; its output:\n{output}',
    hint: 'Make the process listen on $PORT (read from the environment); the output above says why it stopped.',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_SLUG_BOOT_TIMEOUT: {
    message: '`{command}` did not listen on port {port} within {ms} ms; its output:\n{output}',
    hint: 'Make the process listen on $PORT (read from the environment), or raise timeoutMs if it is only slow to boot.',
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_SLUG_PROCESS_TYPE: {
    message: 'the build has no process type "{type}" (it has: {types})',
    hint: 'Start one of the listed types, or give the app a Procfile line for "{type}".',
    status: 400,
  },
  SLIPWAY_ERR_BUILDPACK_SCAFFOLD: {
    message: 'cannot create the buildpack in {dir}: {detail}',
    hint: 'Choose an empty or new directory with --dir.',
    status: 400,
  },
});

/** The origin label errors of buildpack `id` carry: shown as `[buildpack id]`. */
export function buildpackOrigin(id: string): string {
  return `buildpack ${id}`;
}

/**
 * Give anything thrown inside buildpack `id` its origin, so the kernel's wrapper keeps it and the
 * user sees `[buildpack id] compile failed: …` rather than the plugin's package name.
 */
export function toBuildpackError(err: unknown, id: string, hook: string): SlipwayError {
  if (err instanceof SlipwayError) {
    err.plugin ??= buildpackOrigin(id);
    // An empty hook keeps the kernel from adding `compile(id)`: the message already says it.
    err.hook ??= '';
    return err;
  }
  const detail = err instanceof Error ? err.message : String(err);
  return buildpackErrors.SLIPWAY_ERR_BUILDPACK_FAILED(
    { hook, detail, buildpack: id },
    { cause: err, plugin: buildpackOrigin(id), hook: '' },
  );
}
