/**
 * The slug compiler: source → isolated build dir → `.slugignore` → detect → compile (each
 * buildpack, with its cache and ENV_DIR) → release → Procfile → slug + metadata.
 * The user's source is never written; a failed build writes no slug.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type AppJson, parseAppJson } from '../app-json.js';
import { type BuildLog, createBuildLog } from '../build-log.js';
import { validateConfigVars } from '../config-vars.js';
import { coreErrors, isSlipwayError } from '../errors.js';
import type { BuildEvent, BuildOutcome, Detection, ReleaseSpec, StackInfo } from '../hooks.js';
import type { Kernel } from '../kernel.js';
import { parseProcfile } from '../procfile.js';
import { formatBytes, packSlug } from './slug.js';
import { applySlugignore, fillBuildDir } from './source.js';
import type { BuildOptions, BuildResult, BuildTimings, SlugMetadata } from './types.js';

/**
 * The stack Slipway builds for when the platform names none: the one place its name is written
 * (the runtime's stack builder, dyno runtimes and images take it from here).
 */
export const DEFAULT_STACK: StackInfo = Object.freeze({
  id: 'slipway-13',
  description: 'Slipway-13 (Debian 13 trixie)',
});

/** The StackInfo of stack `id` (`DEFAULT_STACK` for its name); `runtimeInSlug` as the runtime says. */
export function stackInfo(id: string, runtimeInSlug?: boolean): StackInfo {
  const info = id === DEFAULT_STACK.id ? DEFAULT_STACK : { id, description: id };
  return runtimeInSlug ? { ...info, runtimeInSlug } : info;
}
/** Heroku's 2026 compile limit. */
export const DEFAULT_BUILD_TIMEOUT_MS = 25 * 60_000;
/** Heroku warns above this slug size. */
export const SLUG_WARN_BYTES = 300 * 1024 * 1024;
/** Heroku's 2026 hard limit. */
export const SLUG_MAX_BYTES = 1024 * 1024 * 1024;

/** Maps the names people put in app.json `buildpacks` (`heroku/nodejs`) to catalogue ids. */
export function buildpackIdFor(kernel: Kernel, name: string): string | undefined {
  const cat = kernel.catalog.buildpacks;
  if (cat.has(name)) return name;
  for (const e of cat.values()) if (e.source === name || e.plugin === name) return e.id;
  const short = name.replace(/^(heroku|slipway)\//, '').replace(/^heroku-buildpack-/, '');
  if (cat.has(short)) return short;
  return undefined;
}

/** The id of the buildpack plugin `pluginName` registered, when it registered exactly one. */
function buildpackAddedBy(kernel: Kernel, pluginName: string): string | undefined {
  const ids = [...kernel.catalog.buildpacks.values()].filter((e) => e.plugin === pluginName).map((e) => e.id);
  return ids.length === 1 ? ids[0] : undefined;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function writeEnvDir(dir: string, env: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(Object.entries(env).map(([k, v]) => writeFile(path.join(dir, k), v)));
}

/** Run `work`, but give up when `signal` aborts (a hung plugin cannot hold the build). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Build an app into a slug. Throws a coded SlipwayError on any failure; writes no slug then. */
export async function runBuild(opts: BuildOptions): Promise<BuildResult> {
  const { kernel } = opts;
  const lifecycle = opts.lifecycle ?? {
    beforeBuild: (e: BuildEvent) => kernel.hooks.beforeBuild.promise(e),
    afterBuild: (e: BuildEvent, o: BuildOutcome | undefined) => kernel.hooks.afterBuild.promise(e, o),
  };
  const started = Date.now();
  const id = randomBytes(8).toString('hex');
  const app = opts.app ?? 'local';
  const stack = opts.stack ?? DEFAULT_STACK;
  const env = validateConfigVars({ ...(opts.env ?? {}) });
  const warnings: string[] = [];
  const lines = opts.onLine ?? (() => {});
  const log: BuildLog = createBuildLog(lines);
  const timings: BuildTimings = { prepare: 0, detect: 0, compile: {}, release: 0, slug: 0, total: 0 };
  const timeoutMs = opts.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS;

  const controller = new AbortController();
  let phase = 'prepare';
  const timer = setTimeout(
    () =>
      controller.abort(
        coreErrors.SLIPWAY_ERR_BUILD_TIMEOUT({ minutes: +(timeoutMs / 60_000).toFixed(2), phase }),
      ),
    timeoutMs,
  );
  const onCancel = () => controller.abort(coreErrors.SLIPWAY_ERR_BUILD_ABORTED({ phase }));
  opts.signal?.addEventListener('abort', onCancel, { once: true });
  const signal = controller.signal;

  const root = await mkdtemp(path.join(opts.workDir ?? os.tmpdir(), 'slipway-build-'));
  const buildDir = path.join(root, 'app');
  const envDir = path.join(root, 'env');
  const event = { app, id, buildDir, log };
  let outcome: BuildResult | undefined;
  try {
    await mkdir(buildDir);
    await abortable(fillBuildDir(opts.source, buildDir), signal);
    const ignored = await applySlugignore(buildDir);
    if (ignored.length) log.info(`Removed ${ignored.length} path(s) listed in .slugignore`);
    await writeEnvDir(envDir, env);
    const appJsonText = await readOptional(path.join(buildDir, 'app.json'));
    const appJson: AppJson | undefined = appJsonText === undefined ? undefined : parseAppJson(appJsonText);
    const procfileText = await readOptional(path.join(buildDir, 'Procfile'));
    if (procfileText !== undefined) parseProcfile(procfileText); // fail fast, before any compile
    await abortable(lifecycle.beforeBuild(event), signal);
    timings.prepare = Date.now() - started;
    log.step(`Building on the ${stack.id} stack`);

    phase = 'detect';
    const t0 = Date.now();
    const pinned = opts.buildpacks?.length
      ? [...opts.buildpacks]
      : (appJson?.buildpacks ?? []).map((b) => b.url);
    const detections: Detection[] = [];
    const reasons = new Map<string, string>();
    const detectCtx = (only: string | undefined) => ({ buildDir, env, stack, appJson, only, reasons, log });
    if (pinned.length) {
      const ids: string[] = [];
      for (const name of pinned) {
        let bid = buildpackIdFor(kernel, name);
        if (!bid && opts.fetchBuildpack) {
          log.step(`Fetching buildpack ${name}`);
          const plugin = await abortable(opts.fetchBuildpack(name), signal);
          // Another name for a plugin already applied (a path to an installed buildpack) reuses it.
          if (!kernel.plugins.includes(plugin.name)) await kernel.use(plugin);
          // The fetched plugin registers one buildpack: found by its source, else the one it added.
          bid = buildpackIdFor(kernel, name) ?? buildpackAddedBy(kernel, plugin.name);
        }
        if (!bid)
          throw coreErrors.SLIPWAY_ERR_BUILDPACK_UNKNOWN({
            buildpack: name,
            known: [...kernel.catalog.buildpacks.keys()].join(', ') || '(none)',
          });
        ids.push(bid);
      }
      for (const bid of ids) {
        const d = await abortable(kernel.hooks.detect.promise(detectCtx(bid)), signal);
        if (!d)
          throw coreErrors.SLIPWAY_ERR_BUILD_DETECT_PINNED({
            buildpack: bid,
            reason: reasons.get(bid) ?? 'its detect did not claim the app',
          });
        detections.push(d);
      }
      log.step(`Using buildpacks: ${detections.map((d) => d.buildpack).join(', ')}`);
    } else {
      const d = await abortable(kernel.hooks.detect.promise(detectCtx(undefined)), signal);
      if (!d) {
        const expected =
          [...reasons.entries()].map(([k, v]) => `${k}: ${v}`).join('; ') || 'no buildpacks are installed';
        throw coreErrors.SLIPWAY_ERR_BUILD_DETECT_NONE({ source: opts.source, expected });
      }
      detections.push(d);
    }
    for (const d of detections) log.step(`${d.name} app detected`);
    timings.detect = Date.now() - t0;

    phase = 'compile';
    const exports: Record<string, string> = {};
    for (const d of detections) {
      const t = Date.now();
      const cacheDir = opts.cacheDir
        ? path.join(opts.cacheDir, d.buildpack.replace(/[^\w.-]/g, '_'))
        : path.join(root, 'cache', d.buildpack.replace(/[^\w.-]/g, '_'));
      await mkdir(cacheDir, { recursive: true });
      if (!kernel.hooks.compile.get(d.buildpack)?.isUsed())
        throw coreErrors.SLIPWAY_ERR_BUILDPACK_UNKNOWN({
          buildpack: d.buildpack,
          known: [...kernel.catalog.buildpacks.keys()].join(', '),
        });
      phase = `compile (${d.buildpack})`;
      await abortable(
        kernel.hooks.compile.for(d.buildpack).promise({
          buildpack: d.buildpack,
          buildDir,
          cacheDir,
          envDir,
          env: { ...env, ...exports },
          exports,
          stack,
          appJson,
          log,
          signal,
        }),
        signal,
      );
      timings.compile[d.buildpack] = Date.now() - t;
    }

    phase = 'release';
    const t1 = Date.now();
    let spec: ReleaseSpec = { processTypes: {}, configDefaults: {}, addons: [] };
    const order = detections.map((d) => d.buildpack);
    for (const bid of order)
      spec = await abortable(
        kernel.hooks.release.promise(spec, { buildpack: bid, buildpacks: order, buildDir, env, stack, log }),
        signal,
      );
    const finalProcfile = await readOptional(path.join(buildDir, 'Procfile'));
    const processTypes = { ...spec.processTypes, ...(finalProcfile ? parseProcfile(finalProcfile) : {}) };
    if (Object.keys(processTypes).length) {
      log.step('Discovering process types');
      log.info(
        `${finalProcfile ? 'Procfile declares' : 'Default'} types -> ${Object.keys(processTypes).join(', ')}`,
      );
    } else log.warn('No process types: add a Procfile (web: <command>) so the app has something to run.');
    timings.release = Date.now() - t1;

    let slug: BuildResult['slug'];
    if (opts.output) {
      phase = 'slug';
      const t2 = Date.now();
      log.step('Compressing...');
      const { packing, ...packed } = await abortable(
        packSlug(
          buildDir,
          opts.output,
          { maxBytes: opts.slugMaxBytes ?? SLUG_MAX_BYTES },
          // Runtimes packed by an earlier build of this app are reused from its cache
          // (SLIPWAY_SLUG_MEMBERS=off packs everything every time, as before; benchmarks compare).
          opts.cacheDir && process.env.SLIPWAY_SLUG_MEMBERS !== 'off'
            ? path.join(opts.cacheDir, '.slug-members')
            : undefined,
          opts.sharedMembers,
        ),
        signal,
      );
      slug = packed;
      log.info(`Done: ${formatBytes(slug.size)}`);
      const names = (reused: boolean, shared = false) =>
        (packing?.members ?? [])
          .filter((m) => m.reused === reused && !!m.shared === shared)
          .map((m) => m.name.replace(/^\.\//, ''));
      if (names(true, true).length) log.info(`Used the platform's packed ${names(true, true).join(', ')}`);
      if (names(true).length) log.info(`Reused the packed ${names(true).join(', ')} of an earlier build`);
      if (names(false).length) log.info(`Packed ${names(false).join(', ')} for the next builds to reuse`);
      if (packing)
        timings.slugParts = { scan: packing.scanMs, rest: packing.restMs, members: packing.membersMs };
      if (slug.size > (opts.slugWarnBytes ?? SLUG_WARN_BYTES)) {
        const w = `Your slug size (${formatBytes(slug.size)}) exceeds the soft limit (${formatBytes(opts.slugWarnBytes ?? SLUG_WARN_BYTES)}), which may slow deploys and dyno starts.`;
        warnings.push(w);
        log.warn(w);
      }
      timings.slug = Date.now() - t2;
    }
    timings.total = Date.now() - started;
    outcome = {
      id,
      app,
      buildpacks: detections,
      processTypes,
      configDefaults: spec.configDefaults,
      addons: spec.addons,
      appJson,
      stack,
      ...(opts.keepBuildDir ? { buildDir } : {}),
      ...(slug ? { slug } : {}),
      timings,
      warnings,
    };
    if (slug) {
      const meta: SlugMetadata = {
        process_types: processTypes,
        buildpacks: detections.map((d) => ({ id: d.buildpack, name: d.name })),
        stack: stack.id,
        size: slug.size,
        checksum: slug.checksum,
        created_at: new Date().toISOString(),
        timings,
      };
      await writeFile(slugMetadataPath(slug.path), `${JSON.stringify(meta, null, 2)}\n`);
    }
    await lifecycle.afterBuild(event, {
      buildpacks: detections,
      processTypes,
      ...(slug ? { slug } : {}),
    });
    return outcome;
  } catch (err) {
    const e = signal.aborted && !isSlipwayError(err) ? signal.reason : err;
    if (opts.output) await rm(opts.output, { force: true }).catch(() => {});
    const msg = isSlipwayError(e) ? e.describe() : String((e as Error)?.message ?? e);
    log.error(`Build failed: ${msg.split('\n')[0]}`);
    await lifecycle.afterBuild(event, undefined).catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onCancel);
    if (!(opts.keepBuildDir && outcome)) await rm(root, { recursive: true, force: true }).catch(() => {});
    else await rm(envDir, { recursive: true, force: true }).catch(() => {});
  }
}

/** Where the metadata of a slug lives: `app.tgz` → `app.json` beside it. */
export function slugMetadataPath(slugPath: string): string {
  return slugPath.replace(/(\.tar\.gz|\.tgz|\.tar)?$/, '.json');
}
