/**
 * Coded errors, Fastify style: every error a user can meet has a stable code, a message
 * template and (where it applies) an HTTP status and a hint that says what to do next.
 * Users and tests match on `code`, never on the message text.
 */

/** Fields every catalogue entry declares. `{name}` placeholders are filled from the params. */
export interface ErrorSpec {
  /** Message template, e.g. `Procfile line {line}: {detail}`. */
  message: string;
  /** What the user should do next; also a template. */
  hint?: string;
  /** HTTP status the API answers with; 500 when absent. */
  status?: number;
}

/** Optional context attached when an error crosses a plugin boundary. */
export interface ErrorOrigin {
  plugin?: string;
  hook?: string;
}

/** The one error class of Slipway: coded, with a hint and the plugin/hook it came from. */
export class SlipwayError extends Error {
  override name = 'SlipwayError';
  /** Stable machine-readable code, e.g. `SLIPWAY_ERR_PROCFILE_INVALID`. */
  readonly code: string;
  /** What to do about it, shown after the message. */
  readonly hint: string | undefined;
  /** HTTP status for API answers. */
  readonly status: number;
  /** Plugin that failed, when the error was raised inside one. */
  plugin: string | undefined;
  /** Hook the plugin was running in. */
  hook: string | undefined;
  /** Parameters used to render the message (for programmatic use). */
  readonly params: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    opts: {
      hint?: string;
      status?: number;
      cause?: unknown;
      params?: Record<string, unknown>;
    } & ErrorOrigin = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.hint = opts.hint;
    this.status = opts.status ?? 500;
    this.plugin = opts.plugin;
    this.hook = opts.hook;
    this.params = opts.params ?? {};
  }

  /** `message` plus the hint on its own line: what a CLI prints. */
  describe(): string {
    const where = this.plugin ? `[${this.plugin}${this.hook ? ` ${this.hook}` : ''}] ` : '';
    return `${where}${this.message}${this.hint ? `\n  → ${this.hint}` : ''}`;
  }

  /** Shape used by the API: Heroku's `{ id, message }` plus our code and hint. */
  toJSON(): { id: string; code: string; message: string; hint?: string } {
    const id = this.code.replace(/^SLIPWAY_ERR_/, '').toLowerCase();
    return { id, code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

/** True when `e` is a SlipwayError, optionally with the given code. */
export function isSlipwayError(e: unknown, code?: string): e is SlipwayError {
  return e instanceof SlipwayError && (code === undefined || e.code === code);
}

function render(template: string, params: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

/** A factory per code: `errors.SLIPWAY_ERR_X({ file: 'a' })` builds a SlipwayError. */
export type ErrorFactories<T extends Record<string, ErrorSpec>> = {
  readonly [K in keyof T]: (
    params?: Record<string, unknown>,
    opts?: { cause?: unknown } & ErrorOrigin,
  ) => SlipwayError;
};

/** Declare a package's error catalogue. Each key is the code. */
export function defineErrors<T extends Record<string, ErrorSpec>>(catalog: T): ErrorFactories<T> {
  const out: Record<string, unknown> = {};
  for (const [code, spec] of Object.entries(catalog)) {
    out[code] = (params: Record<string, unknown> = {}, opts: { cause?: unknown } & ErrorOrigin = {}) =>
      new SlipwayError(code, render(spec.message, params), {
        ...(spec.hint ? { hint: render(spec.hint, params) } : {}),
        status: spec.status ?? 500,
        params,
        ...opts,
      });
  }
  return Object.freeze(out) as ErrorFactories<T>;
}

/**
 * Wrap anything thrown inside a plugin's hook so the user sees
 * `[buildpack nodejs] compile failed: …` rather than a bare stack. A SlipwayError keeps its
 * code and gains the origin; any other error becomes SLIPWAY_ERR_PLUGIN_FAILED.
 */
export function wrapPluginError(err: unknown, plugin: string, hook: string): SlipwayError {
  if (err instanceof SlipwayError) {
    err.plugin ??= plugin;
    err.hook ??= hook;
    return err;
  }
  const detail = err instanceof Error ? err.message : String(err);
  return coreErrors.SLIPWAY_ERR_PLUGIN_FAILED({ plugin, hook, detail }, { cause: err, plugin, hook });
}

/** The kernel's error catalogue. */
export const coreErrors = defineErrors({
  SLIPWAY_ERR_ADDON_ATTACHMENT_NAME: {
    message: 'attachment name "{name}" is invalid',
    hint: 'Use upper-case letters, digits and _ (e.g. PRIMARY), starting with a letter.',
    status: 422,
  },
  SLIPWAY_ERR_PLUGIN_FAILED: {
    message: '{hook} failed: {detail}',
    hint: 'This is an error inside the plugin {plugin}; its output above says more. Fix the app or report it to the plugin author.',
  },
  SLIPWAY_ERR_PLUGIN_INVALID: {
    message: 'plugin {plugin} is not a valid Slipway plugin: {detail}',
    hint: 'A plugin module must export (default) an object { name, apply(kernel, options) }; see README "Write a plugin".',
    status: 400,
  },
  SLIPWAY_ERR_PLUGIN_NOT_FOUND: {
    message: 'plugin {plugin} could not be loaded from {from}: {detail}',
    hint: 'Install it next to the config (npm install {plugin}) or give a path starting with ./ relative to the config file.',
    status: 400,
  },
  SLIPWAY_ERR_PLUGIN_DUPLICATE: {
    message: 'plugin {plugin} is registered twice',
    hint: 'List each plugin once in slipway.config; pass all its options in one entry.',
    status: 400,
  },
  SLIPWAY_ERR_PLUGIN_KERNEL_RANGE: {
    message: 'plugin {plugin} needs kernel {range}, but this is kernel {version}',
    hint: 'Install a version of {plugin} made for kernel {version}, or upgrade Slipway.',
    status: 400,
  },
  SLIPWAY_ERR_PLUGIN_OPTIONS: {
    message: 'plugin {plugin}: {problems}',
    hint: 'Fix {fields} in the options of {plugin} in {file}.',
    status: 400,
  },
  SLIPWAY_ERR_SERVICE_CONFLICT: {
    message: 'plugins {first} and {second} both provide the {service} service',
    hint: 'Keep one of them (disable the other in slipway.config), or make one a default ({ default: true }).',
    status: 400,
  },
  SLIPWAY_ERR_SERVICE_CYCLE: {
    message: 'the factories of {cycle} depend on each other in a circle',
    hint: 'Break the circle: one of these services must not need the next one to be built.',
  },
  SLIPWAY_ERR_SERVICE_MISSING: {
    message: 'no {service} service is registered{neededBy}',
    hint: 'Add a plugin that provides {service} (the reference runtime does) before the plugins that need it.',
  },
  SLIPWAY_ERR_KERNEL_SEALED: {
    message: 'cannot {action} after the kernel is ready',
    hint: 'Register plugins and services before calling kernel.ready().',
  },
  SLIPWAY_ERR_CONFIG_NOT_FOUND: {
    message: 'no slipway.config.json or slipway.config.js in {dir}',
    hint: 'Create slipway.config.json listing your plugins, e.g. { "plugins": ["@slipway/buildpack-nodejs"] }.',
    status: 400,
  },
  SLIPWAY_ERR_CONFIG_INVALID: {
    message: '{file}: {field} {detail}',
    hint: 'Fix {field} in {file}; the expected shape is documented in README "Compose a platform".',
    status: 400,
  },
  SLIPWAY_ERR_PROCFILE_INVALID: {
    message: 'Procfile line {line}: {detail}',
    hint: 'Each line must read `type: command`, the type made of letters, digits, - and _ (at most 128).',
    status: 400,
  },
  SLIPWAY_ERR_APP_JSON_INVALID: {
    message: 'app.json: {field} {detail}',
    hint: 'Fix {field} in app.json; see https://devcenter.heroku.com/articles/app-json-schema for the format.',
    status: 400,
  },
  SLIPWAY_ERR_CONFIG_VAR_NAME: {
    message: 'config var name "{name}" is invalid: {detail}',
    hint: 'Use letters, digits and _ only, not starting with a digit (e.g. DATABASE_URL).',
    status: 422,
  },
  SLIPWAY_ERR_CONFIG_VAR_VALUE: {
    message: 'the value of config var {name} holds the control character {char} (at position {position})',
    hint: 'Values are text: remove NUL and other control characters (tab, newline and carriage return are fine); encode binary data, e.g. in base64.',
    status: 422,
  },
  SLIPWAY_ERR_CONFIG_ASSIGNMENT: {
    message: '"{word}" is not an assignment: expected KEY=value',
    hint: 'Write KEY=value, e.g. `config:set {example}=value`; to read one var use `config:get {example}`.',
    status: 422,
  },
  SLIPWAY_ERR_CONFIG_VARS_TOO_LARGE: {
    message: 'config vars take {size} bytes, over the limit of {limit} bytes',
    hint: 'Keep config vars small; store large files in the app or an add-on instead.',
    status: 422,
  },
  SLIPWAY_ERR_BUILD_SOURCE: {
    message: 'cannot read the app source at {source}: {detail}',
    hint: 'Give a directory (or tar.gz) that contains your app.',
    status: 400,
  },
  SLIPWAY_ERR_BUILD_DETECT_NONE: {
    message: 'no buildpack detected an app in {source}',
    hint: 'Add the file your language needs ({expected}), or pick a buildpack with -b / app.json "buildpacks".',
    status: 422,
  },
  SLIPWAY_ERR_BUILD_DETECT_PINNED: {
    message: 'buildpack {buildpack} does not apply to this app: {reason}',
    hint: "Remove it from the app's buildpacks, or add what it looks for.",
    status: 422,
  },
  SLIPWAY_ERR_BUILDPACK_UNKNOWN: {
    message: 'buildpack {buildpack} is not installed on this platform',
    hint: 'Installed buildpacks: {known}. Add it to slipway.config or pass -b with a path or package.',
    status: 422,
  },
  SLIPWAY_ERR_BUILD_TIMEOUT: {
    message: 'build timed out after {minutes} min in {phase}',
    hint: 'Make the build faster (cache dependencies) or raise buildTimeout.',
    status: 422,
  },
  SLIPWAY_ERR_BUILD_ABORTED: {
    message: 'build was cancelled during {phase}',
    status: 409,
  },
  SLIPWAY_ERR_SLUG_TOO_LARGE: {
    message: 'compiled slug is {size}, over the limit of {limit}',
    hint: 'Remove build-only files with .slugignore, prune dev dependencies, or raise slugMaxBytes.',
    status: 422,
  },
  SLIPWAY_ERR_SLUG_PACK: {
    message: 'cannot pack the build dir into a slug: {detail}',
    hint: 'A buildpack left files tar cannot read (permissions, or still being written); check the last compile step.',
    status: 422,
  },
});

/**
 * The one error body of Slipway's HTTP APIs (the platform API, the add-on partner API and their
 * clients): Heroku's `{ id, message }` plus the code and hint of the catalogue.
 */
export type ApiErrorBody = ReturnType<SlipwayError['toJSON']>;

/**
 * Status and body answering `e`: a coded error as its catalogue says, anything else a 500
 * `internal_error` (its message, passed through `redact` when given, e.g. a provider's secrets).
 */
export function errorAnswer(
  e: unknown,
  redact: (text: string) => string = (t) => t,
): { status: number; body: ApiErrorBody | { id: string; message: string } } {
  if (isSlipwayError(e)) return { status: e.status, body: { ...e.toJSON(), message: redact(e.message) } };
  return {
    status: 500,
    body: { id: 'internal_error', message: `internal error: ${redact((e as Error)?.message ?? String(e))}` },
  };
}
