/**
 * Builds the contexts a buildpack author receives from the kernel's raw hook contexts: source
 * helpers, `run`/`$` bound to the build environment, cache layers, `.profile.d`, exports and the
 * version check. Authors never touch the kernel's contexts directly.
 */
import { type ChildProcess, spawn as cpSpawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CompileContext, type DetectContext, indentOutput, type ReleaseContext } from '@slipway/core';
import { $ as zx$ } from 'zx';
import { openCacheLayer } from './cache-layer.js';
import { renderExports, writeProfileD } from './env-files.js';
import { buildpackErrors, buildpackOrigin } from './errors.js';
import { killTree } from './process-tree.js';
import { lineSplitter, mergeEnv, spawnLogged } from './run.js';
import { sourceHelpers } from './source-helpers.js';
import type {
  BuildpackCompileContext,
  BuildpackDetectContext,
  BuildpackReleaseContext,
  RunOptions,
} from './types.js';
import { requireVersion } from './version.js';

/** The detect context of a buildpack over the kernel's. */
export function createDetectContext(ctx: DetectContext): BuildpackDetectContext {
  return {
    ...sourceHelpers(ctx.buildDir),
    env: ctx.env,
    stack: ctx.stack,
    appJson: ctx.appJson,
    log: ctx.log,
  };
}

/** The release context of a buildpack over the kernel's. */
export function createReleaseContext(ctx: ReleaseContext): BuildpackReleaseContext {
  return { ...sourceHelpers(ctx.buildDir), env: ctx.env, stack: ctx.stack, log: ctx.log };
}

/**
 * The environment build commands see: the platform's own, then the app's config vars, then what
 * earlier buildpacks exported (so their PATH additions win), plus `STACK`.
 */
export function buildEnv(ctx: CompileContext): Record<string, string> {
  return mergeEnv(process.env, ctx.env, ctx.exports, { STACK: ctx.stack.id });
}

/** Where a buildpack's Heroku `export` file lives when the pipeline does not say. */
export function exportFilePath(ctx: CompileContext): string {
  const given = (ctx as CompileContext & { exportFile?: string }).exportFile;
  return given ?? join(ctx.cacheDir, '.slipway-export');
}

/** zx's `$` bound to a compile: cwd, env, abort (whole process tree) and log streaming. */
function boundShell(ctx: CompileContext, env: () => Record<string, string>) {
  const live = new Set<ChildProcess>();
  ctx.signal.addEventListener('abort', () => {
    for (const c of live) killTree(c.pid);
  });
  const spawn = ((cmd: string, args: readonly string[], opts: object) => {
    const child = cpSpawn(cmd, args, opts);
    live.add(child);
    child.on('close', () => live.delete(child));
    return child;
  }) as unknown as typeof cpSpawn;
  const splitters = new Map<string, ReturnType<typeof lineSplitter>>();
  const log = (entry: { kind: string; id?: string; data?: Buffer }) => {
    if ((entry.kind === 'stdout' || entry.kind === 'stderr') && entry.data) {
      const key = `${entry.id}:${entry.kind}`;
      let s = splitters.get(key);
      if (!s) {
        s = lineSplitter((l) => ctx.log.raw(indentOutput(l)));
        splitters.set(key, s);
      }
      s.push(entry.data.toString('utf8'));
    } else if (entry.kind === 'end') {
      for (const k of ['stdout', 'stderr']) {
        splitters.get(`${entry.id}:${k}`)?.end();
        splitters.delete(`${entry.id}:${k}`);
      }
    }
  };
  return zx$({ cwd: ctx.buildDir, env: env(), signal: ctx.signal, spawn, log: log as never, quiet: false });
}

/** Where an SDK compile context keeps the kernel's own context, for the SDK's adapters only. */
export const RAW_CONTEXT: unique symbol = Symbol('slipway.rawCompileContext');

/** The kernel's compile context behind an SDK one (the classic adapter needs the raw exports). */
export function rawContext(ctx: BuildpackCompileContext): CompileContext {
  return (ctx as BuildpackCompileContext & { [RAW_CONTEXT]: CompileContext })[RAW_CONTEXT];
}

/** The compile context of buildpack `id` over the kernel's. */
export function createCompileContext(ctx: CompileContext, id: string): BuildpackCompileContext {
  const origin = buildpackOrigin(id);
  const errOpts = { plugin: origin, hook: '' };
  const helpers = sourceHelpers(ctx.buildDir);
  let shell: ReturnType<typeof boundShell> | undefined;
  const compileCtx: BuildpackCompileContext = {
    ...helpers,
    buildpack: id,
    cacheDir: ctx.cacheDir,
    envDir: ctx.envDir,
    get env() {
      return { ...ctx.env, ...ctx.exports };
    },
    stack: ctx.stack,
    appJson: ctx.appJson,
    log: ctx.log,
    signal: ctx.signal,
    run(command: string, args: readonly string[], options: RunOptions = {}) {
      return spawnLogged(command, args, {
        cwd: options.cwd ?? ctx.buildDir,
        env: mergeEnv(buildEnv(ctx), options.env),
        log: ctx.log,
        signal: ctx.signal,
        origin,
        ...(options.stream === undefined ? {} : { stream: options.stream }),
        ...(options.allowFailure === undefined ? {} : { allowFailure: options.allowFailure }),
        ...(options.input === undefined ? {} : { input: options.input }),
      });
    },
    get $() {
      // Built on first use, after earlier buildpacks' exports are in place.
      shell ??= boundShell(ctx, () => buildEnv(ctx));
      return shell;
    },
    async cacheLayer(name, digest) {
      await mkdir(ctx.cacheDir, { recursive: true });
      return openCacheLayer(ctx.cacheDir, name, digest);
    },
    async profileD(name, script) {
      await writeProfileD(ctx.buildDir, name, script);
    },
    async exportEnv(vars) {
      const text = renderExports(vars);
      Object.assign(ctx.exports, vars);
      const file = exportFilePath(ctx);
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(file, text, { flag: 'a' });
    },
    requireVersion(tool, constraint, installed) {
      try {
        return requireVersion(tool, constraint, installed);
      } catch (e) {
        throw Object.assign(e as object, errOpts);
      }
    },
    fail(message, hint) {
      throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_FAIL({ message, hint: hint ?? '' }, errOpts);
    },
  };
  Object.defineProperty(compileCtx, RAW_CONTEXT, { value: ctx, enumerable: false });
  return compileCtx;
}
