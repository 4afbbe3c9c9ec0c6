/**
 * `testBuildpack`: run one buildpack through the real build pipeline (core's `runBuild`) on a
 * fixture app, in temp dirs, and hand back what happened, so an author's test is a few lines:
 *
 *   const r = await testBuildpack(myBuildpack, fixture('app'));
 *   expect(r.processTypes.web).to.equal('node server.js');
 *   await r.cleanup();
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BuildResult,
  DEFAULT_STACK,
  isSlipwayError,
  Kernel,
  offerPlatformNode,
  type Plugin,
  packSlug,
  runBuild,
  type SlipwayError,
  stackInfo,
} from '@slipway/core';
import { defineBuildpack } from './define-buildpack.js';
import { buildpackErrors } from './errors.js';
import { runSlug, type SlugExit, type SlugProcess, type StartSlugOptions, startSlug } from './start-slug.js';
import type { BuildpackDefinition } from './types.js';

/** Options of `testBuildpack`. */
export interface TestBuildpackOptions {
  /** Config vars of the app. */
  env?: Record<string, string>;
  /** Cache root to use (and keep); pass the same dir twice to test cache hits. Default: a temp dir. */
  cacheDir?: string;
  /** Write a slug: `true` for one in the temp dir, or a path. Default: no slug (faster). */
  output?: boolean | string;
  /** Pin the buildpack (as `-b` does) instead of letting detect choose; shows detect's reason. */
  pin?: boolean;
  /** Other plugins or buildpacks to load first (e.g. one that runs before it). */
  plugins?: (Plugin | BuildpackDefinition)[];
  /** Buildpack ids to run in order (defaults to the tested one when `pin`). */
  buildpacks?: string[];
  /** Whole-build timeout in ms. */
  timeoutMs?: number;
  /** Each build output line as it happens (also collected in `log`). */
  onLine?: (line: string) => void;
  /** Show the build output on stderr while it runs (handy when a test fails). */
  verbose?: boolean;
  /**
   * Offer the platform's shared Node.js (core's platform-node.ts) as a platform build does
   * (`SLIPWAY_PLATFORM_NODE`, made once per machine); default true. False: no shared runtime.
   */
  sharedRuntimes?: boolean;
  /**
   * Build as for a container runtime, whose dynos see only the stack and the slug
   * (`StackInfo.runtimeInSlug`): the buildpack must put its language runtime into the slug.
   */
  runtimeInSlug?: boolean;
}

/** What `testBuildpack` found. */
export interface TestBuildpackResult {
  /** True when the buildpack claimed the fixture. */
  detected: boolean;
  /** Why it passed, when it did not detect and said why. */
  reason?: string;
  /** The buildpack ids that ran, in order. */
  buildpacks: string[];
  processTypes: Record<string, string>;
  /** Every line of build output. */
  log: string[];
  /** The compiled app dir (kept until `cleanup`); undefined when nothing was detected. */
  buildDir: string | undefined;
  slug?: { path: string; checksum: string; size: number };
  /** The pipeline's full result; undefined when nothing was detected. */
  result: BuildResult | undefined;
  /** The detect error, when nothing was detected. */
  error?: SlipwayError;
  /** The kernel the build ran in. */
  kernel: Kernel;
  /**
   * Start process type `type` of the slug like a dyno (unpacked elsewhere, `.profile.d` sourced,
   * `PORT` set, unprivileged when root) and resolve once it listens on `PORT`:
   * `const web = await r.start('web'); await web.fetch('/')`. Without `output`, the build dir is
   * packed into a slug first. `cleanup()` stops what is still running.
   */
  start(type: string, opts?: StartSlugOptions): Promise<SlugProcess>;
  /** Run process type `type` (e.g. `release`) to completion like a one-off dyno. */
  run(type: string, opts?: Omit<StartSlugOptions, 'bind' | 'port'>): Promise<SlugExit & { output: string }>;
  /** Stop started processes and remove the temp dirs (not a cacheDir you passed). */
  cleanup(): Promise<void>;
}

function toPlugin(bp: Plugin | BuildpackDefinition): Plugin {
  return ('register' in bp && typeof bp.register === 'function') ||
    ('apply' in bp && typeof bp.apply === 'function')
    ? (bp as Plugin)
    : defineBuildpack(bp as BuildpackDefinition);
}

/** Load `bp` into a fresh kernel and return the ids it registered. */
async function load(kernel: Kernel, bp: Plugin | BuildpackDefinition): Promise<string[]> {
  const before = new Set(kernel.catalog.buildpacks.keys());
  const plugin = toPlugin(bp);
  await kernel.use(plugin);
  const added = [...kernel.catalog.buildpacks.keys()].filter((k) => !before.has(k));
  if (!added.length) throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_NOT_A_BUILDPACK({ plugin: plugin.name });
  return added;
}

/**
 * Build `fixtureDir` with buildpack `bp` through the real pipeline. A fixture the buildpack does
 * not claim resolves with `detected: false`; any other build failure rejects with its coded error.
 */
export async function testBuildpack(
  bp: Plugin | BuildpackDefinition,
  fixtureDir: string,
  opts: TestBuildpackOptions = {},
): Promise<TestBuildpackResult> {
  const kernel = new Kernel();
  for (const p of opts.plugins ?? []) await load(kernel, p);
  const [id] = await load(kernel, bp);
  const work = await mkdtemp(join(tmpdir(), 'slipway-bp-test-'));
  const log: string[] = [];
  const onLine = (line: string) => {
    log.push(line);
    opts.onLine?.(line);
    if (opts.verbose) process.stderr.write(`${line}\n`);
  };
  const output = opts.output === true ? join(work, 'slug.tgz') : opts.output || undefined;
  const pinned = opts.buildpacks ?? (opts.pin ? [id as string] : undefined);
  const running = new Set<SlugProcess>();
  const cleanup = async () => {
    await Promise.all([...running].map((p) => p.stop()));
    await rm(work, { recursive: true, force: true });
  };
  /** The slug to run processes from: the build's, or the build dir packed once on demand. */
  let packed: Promise<string> | undefined;
  const slugFor = (result: BuildResult): Promise<string> => {
    if (result.slug) return Promise.resolve(result.slug.path);
    packed ??= packSlug(
      result.buildDir as string,
      join(work, 'start.tgz'),
      { maxBytes: Number.MAX_SAFE_INTEGER },
      join(work, 'members'),
      sharedMembers,
    ).then((s) => s.path);
    return packed;
  };
  const commandOf = (result: BuildResult, type: string): string => {
    const command = result.processTypes[type];
    if (command === undefined)
      throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_SLUG_PROCESS_TYPE({
        type,
        types: Object.keys(result.processTypes).join(', ') || 'none',
      });
    return command;
  };
  const notBuilt = async (type: string): Promise<never> => {
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_SLUG_PROCESS_TYPE({
      type,
      types: 'none: the buildpack did not claim the app, so nothing was built',
    });
  };
  // What the platform gives its builds: its shared Node.js, through the variable the Node.js
  // buildpack reads (the build runs in this process), and the store its member is read from.
  const offered = await offerPlatformNode(opts.sharedRuntimes !== false);
  const sharedMembers = offered.sharedMembers;
  try {
    const result = await runBuild({
      kernel,
      ...(sharedMembers ? { sharedMembers } : {}),
      source: fixtureDir,
      app: 'test',
      cacheDir: opts.cacheDir ?? join(work, 'cache'),
      workDir: work,
      keepBuildDir: true,
      onLine,
      ...(opts.env ? { env: opts.env } : {}),
      ...(output ? { output } : {}),
      ...(pinned ? { buildpacks: pinned } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.runtimeInSlug ? { stack: stackInfo(DEFAULT_STACK.id, true) } : {}),
    });
    return {
      detected: result.buildpacks.some((d) => d.buildpack === id),
      buildpacks: result.buildpacks.map((d) => d.buildpack),
      processTypes: result.processTypes,
      log,
      buildDir: result.buildDir,
      ...(result.slug ? { slug: result.slug } : {}),
      result,
      kernel,
      async start(type, startOpts = {}) {
        const command = commandOf(result, type);
        const p = await startSlug(await slugFor(result), command, { dyno: `${type}.1`, ...startOpts });
        running.add(p);
        void p.exited.then(() => running.delete(p));
        return p;
      },
      async run(type, runOpts = {}) {
        return runSlug(await slugFor(result), commandOf(result, type), { dyno: `${type}.1`, ...runOpts });
      },
      cleanup,
    };
  } catch (e) {
    if (
      isSlipwayError(e, 'SLIPWAY_ERR_BUILD_DETECT_NONE') ||
      isSlipwayError(e, 'SLIPWAY_ERR_BUILD_DETECT_PINNED')
    ) {
      // Pinned: core names the reason; auto-detect: it lists `id: reason` pairs in `expected`.
      const listed = String(e.params.expected ?? '')
        .split('; ')
        .find((p) => p.startsWith(`${id}: `));
      const reason = e.params.reason ?? listed?.slice(`${id}: `.length);
      return {
        detected: false,
        ...(typeof reason === 'string' ? { reason } : {}),
        buildpacks: [],
        processTypes: {},
        log,
        buildDir: undefined,
        result: undefined,
        error: e,
        kernel,
        start: notBuilt,
        run: notBuilt,
        cleanup,
      };
    }
    await cleanup();
    throw e;
  } finally {
    offered.restore();
  }
}
