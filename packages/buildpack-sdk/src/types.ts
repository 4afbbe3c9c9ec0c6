/**
 * The contract a buildpack author writes against: two functions (`detect`, `compile`) and an
 * optional `release`, each given a context that carries everything in. The SDK does the I/O.
 */
import type { AppJson, BuildLog, StackInfo } from '@slipway/core';

/** `detect`'s answer: claim the app (with the name shown in the log), or pass with a reason. */
export type DetectResult = { detected: true; name?: string } | { detected: false; reason: string };

/** Read-only helpers over the app source, shared by every context. */
export interface SourceHelpers {
  /** The app's build dir (the future slug root). */
  readonly buildDir: string;
  /** True when `rel` exists under the build dir. */
  exists(rel: string): Promise<boolean>;
  /** Text of `rel`, or undefined when it does not exist. */
  readText(rel: string): Promise<string | undefined>;
  /** Parsed JSON of `rel`, undefined when absent; a parse error fails with the file's name. */
  readJson<T = unknown>(rel: string): Promise<T | undefined>;
}

/** Passed to `detect`. Must not write anything. */
export interface BuildpackDetectContext extends SourceHelpers {
  /** The app's config vars. */
  readonly env: Readonly<Record<string, string>>;
  readonly stack: StackInfo;
  readonly appJson: AppJson | undefined;
  readonly log: BuildLog;
}

/** Result of running a command through the SDK. */
export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Options for `ctx.run`. */
export interface RunOptions {
  /** Working directory; default the build dir. */
  cwd?: string;
  /** Extra environment on top of the build environment. */
  env?: Record<string, string | undefined>;
  /** Stream output to the build log (indented); default true. */
  stream?: boolean;
  /** Resolve instead of failing on a non-zero exit. */
  allowFailure?: boolean;
  /** Text for stdin. */
  input?: string;
}

/** A cache directory that is reused only while its digest matches (CNB layer semantics). */
export interface CacheLayer {
  /** The layer's directory (inside the buildpack's cache dir); empty on a miss. */
  readonly dir: string;
  /** True when the stored digest equals the requested one and the contents were kept. */
  readonly hit: boolean;
  /** Metadata stored with the layer on the previous `save`. */
  readonly metadata: Record<string, unknown>;
  /**
   * On a miss, what the previous build saved (its digest and metadata), so a buildpack can say
   * why it reinstalls (`Cargo.lock changed`); undefined on a hit or when nothing was saved.
   */
  readonly previous?: { digest: string; metadata: Record<string, unknown> };
  /** Record the digest (and metadata) so the next build can hit. Call after filling `dir`. */
  save(metadata?: Record<string, unknown>): Promise<void>;
}

/** Passed to `compile`. */
export interface BuildpackCompileContext extends SourceHelpers {
  /** Id of this buildpack. */
  readonly buildpack: string;
  /** This buildpack's private cache dir for this app; kept between builds. */
  readonly cacheDir: string;
  /** Heroku's ENV_DIR (one file per config var). */
  readonly envDir: string;
  /** Config vars merged with what earlier buildpacks exported. */
  readonly env: Readonly<Record<string, string>>;
  readonly stack: StackInfo;
  readonly appJson: AppJson | undefined;
  readonly log: BuildLog;
  /** Fires on timeout or cancel; `run` and `$` kill their processes when it does. */
  readonly signal: AbortSignal;
  /**
   * Run a program with an argument array (never a shell string), in the build dir, with the
   * build environment (process env + config vars + exports), streaming its output indented to
   * the log. Fails the build on a non-zero exit unless `allowFailure`, naming the command.
   */
  run(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** zx's `$`, bound to the build dir and environment, output streamed to the log. */
  readonly $: import('zx').Shell;
  /** A digest-keyed cache layer: `hit` only when `digest` matches the last saved one. */
  cacheLayer(name: string, digest: string): Promise<CacheLayer>;
  /** Write `.profile.d/<name>.sh`, sourced at dyno start (use `${VAR:-default}`). */
  profileD(name: string, script: string): Promise<void>;
  /** Export variables to later buildpacks of this build (Heroku's `export` file). */
  exportEnv(vars: Record<string, string>): Promise<void>;
  /**
   * Check that `installed` satisfies `constraint` (semver range, or a plain version) for `tool`;
   * returns the installed version or fails the build saying what to change.
   */
  requireVersion(tool: string, constraint: string | undefined, installed: string): string;
  /** Fail the build with one line of cause and one of what to do. Never returns. */
  fail(message: string, hint?: string): never;
}

/** What `release` adds: defaults that the Procfile and the app's config override. */
export interface ReleaseResult {
  processTypes?: Record<string, string>;
  configVars?: Record<string, string>;
  addons?: string[];
}

/** Passed to `release`. */
export interface BuildpackReleaseContext extends SourceHelpers {
  readonly env: Readonly<Record<string, string>>;
  readonly stack: StackInfo;
  readonly log: BuildLog;
}

/** A buildpack as its author writes it. */
export interface BuildpackDefinition {
  /** Short id, e.g. `nodejs`; the key of its compile hook and what apps pin. */
  id: string;
  /** Human name shown as `-----> {name} app detected`. */
  name: string;
  /** Detect ordering (see DetectStage); default LANGUAGE. */
  stage?: number;
  /** Kernel semver range; default the SDK's own. */
  kernel?: string;
  detect(ctx: BuildpackDetectContext): DetectResult | Promise<DetectResult>;
  compile(ctx: BuildpackCompileContext): void | Promise<void>;
  release?(ctx: BuildpackReleaseContext): ReleaseResult | Promise<ReleaseResult>;
}
