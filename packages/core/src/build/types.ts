/** Inputs and outputs of the build pipeline (the slug compiler). */
import type { AppJson } from '../app-json.js';
import type { BuildEvent, BuildOutcome, Detection, StackInfo } from '../hooks.js';
import type { Kernel } from '../kernel.js';
import type { Plugin } from '../plugin.js';

/** Everything one build needs. */
export interface BuildOptions {
  kernel: Kernel;
  /**
   * Who runs the build-lifecycle hooks (`beforeBuild`, `afterBuild`); default the kernel's own.
   * A build worker passes a relay to the platform, whose kernel holds every plugin's taps.
   */
  lifecycle?: BuildLifecycle;
  /** App source: a directory or a .tar.gz / .tgz archive. Never written to. */
  source: string;
  /** App name (for the cache and log); `local` for `slipway build`. */
  app?: string;
  /**
   * Buildpacks to run in order (ids from the catalogue, or what `fetchBuildpack` can load).
   * Overrides app.json `buildpacks`; empty or absent means detect automatically.
   */
  buildpacks?: readonly string[];
  /**
   * Load a pinned buildpack the kernel does not have (a git URL, a path, a package): the
   * returned plugin is applied to the kernel before detect. Absent: such a name fails the build.
   */
  fetchBuildpack?: (name: string) => Promise<Plugin>;
  /** The app's cache root; each buildpack gets `<cacheDir>/<buildpack id>`. Default: none kept. */
  cacheDir?: string;
  /**
   * The platform's store of runtime members shared by all apps (shared-members.ts): a runtime a
   * buildpack links from there is appended to the slug from the store. Default: none.
   */
  sharedMembers?: string;
  /** Where isolated build dirs are made; default the OS temp dir. */
  workDir?: string;
  /** Config vars given to buildpacks (ENV_DIR). */
  env?: Record<string, string>;
  /** Write the slug here (tar.gz). Without it the build stops after release (dry build). */
  output?: string;
  /** Each line of build output, as it happens. */
  onLine?: (line: string) => void;
  /** Whole-build timeout; default 25 min. */
  timeoutMs?: number;
  /** Warn above this slug size; default 300 MB. */
  slugWarnBytes?: number;
  /** Refuse above this slug size; default 1 GB. */
  slugMaxBytes?: number;
  /** Default: `{ id: 'slipway-13', … }`. */
  stack?: StackInfo;
  /** Cancel the build. */
  signal?: AbortSignal;
  /** Keep the build dir after the build (the harness and tests inspect it). */
  keepBuildDir?: boolean;
}

/** Time spent per phase, in ms. */
export interface BuildTimings {
  prepare: number;
  detect: number;
  compile: Record<string, number>;
  release: number;
  slug: number;
  /** Of `slug`, with runtime members: finding them, packing the rest, writing the members. */
  slugParts?: { scan: number; rest: number; members: number };
  total: number;
}

/** What a successful build produced. */
export interface BuildResult {
  id: string;
  app: string;
  /** The buildpacks that ran, in order. */
  buildpacks: Detection[];
  /** Final process types (buildpack defaults, then the Procfile). */
  processTypes: Record<string, string>;
  /** Config var defaults from buildpacks. */
  configDefaults: Record<string, string>;
  /** Add-ons requested by buildpacks (`service:plan`). */
  addons: string[];
  appJson: AppJson | undefined;
  stack: StackInfo;
  /** The build dir, when `keepBuildDir` was set. */
  buildDir?: string;
  slug?: { path: string; checksum: string; size: number };
  timings: BuildTimings;
  /** Warnings shown during the build (e.g. slug size). */
  warnings: string[];
}

/** Metadata stored beside a slug (`<slug>.json`): never inside it. */
export interface SlugMetadata {
  process_types: Record<string, string>;
  buildpacks: { id: string; name: string }[];
  stack: string;
  size: number;
  checksum: string;
  created_at: string;
  timings: BuildTimings;
}

/** Runs the build-lifecycle hooks of one build (see `BuildOptions.lifecycle`). */
export interface BuildLifecycle {
  beforeBuild(event: BuildEvent): Promise<void>;
  afterBuild(event: BuildEvent, outcome: BuildOutcome | undefined): Promise<void>;
}
