/**
 * The classic adapter: a Heroku-style buildpack directory (`bin/detect`, `bin/compile`,
 * `bin/release`) runs unchanged as a Slipway buildpack. Its contract is Heroku's: detect exits 0
 * and prints a name; compile gets BUILD_DIR CACHE_DIR ENV_DIR, `STACK` and nothing of the app's
 * config; release prints YAML; an `export` file in the buildpack dir reaches later buildpacks.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { rawContext } from './contexts.js';
import { type BuildpackPlugin, defineBuildpack } from './define-buildpack.js';
import { sourceExportFile } from './env-files.js';
import { buildpackErrors, buildpackOrigin } from './errors.js';
import { mergeEnv, spawnLogged } from './run.js';
import type { ReleaseResult } from './types.js';

/** Options of `classicBuildpack`. */
export interface ClassicBuildpackOptions {
  /** Buildpack id; default derived from the directory name (`heroku-buildpack-ruby` → `ruby`). */
  id?: string;
  /** Plugin name; default `buildpack-<id>`. */
  name?: string;
  /** Where it came from (path or git URL), shown in listings. */
  source?: string;
  /** Detect ordering (see DetectStage). */
  stage?: number;
}

/** The id a classic buildpack directory gets unless one is given. */
export function classicIdFor(dir: string): string {
  const base = basename(resolve(dir))
    .toLowerCase()
    .replace(/\.git$/, '')
    .replace(/^(heroku|slipway)-buildpack-/, '')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '');
  return base || 'classic';
}

function checkExecutable(dir: string, script: string, required: boolean): boolean {
  const file = join(dir, 'bin', script);
  if (!existsSync(file)) {
    if (required)
      throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_CLASSIC_INVALID({
        dir,
        detail: `bin/${script} is missing`,
      });
    return false;
  }
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_CLASSIC_INVALID({
      dir,
      detail: `bin/${script} is not executable`,
    });
  }
  return true;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_CLASSIC_RELEASE({ detail: `${field} must be a mapping` });
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

/** Read bin/release's YAML into a release result. */
export function parseClassicRelease(text: string): ReleaseResult {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_CLASSIC_RELEASE(
      { detail: (e as Error).message },
      { cause: e },
    );
  }
  if (doc === null || doc === undefined || doc === '') return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_CLASSIC_RELEASE({
      detail: 'the top level must be a mapping',
    });
  const y = doc as Record<string, unknown>;
  const addons = (Array.isArray(y.addons) ? y.addons : []).map((a) =>
    typeof a === 'object' && a !== null && 'plan' in a ? String((a as { plan: unknown }).plan) : String(a),
  );
  return {
    processTypes: stringMap(y.default_process_types, 'default_process_types'),
    configVars: stringMap(y.config_vars, 'config_vars'),
    addons,
  };
}

/** Make a Slipway buildpack of the classic buildpack in `dir`. */
export function classicBuildpack(dir: string, options: ClassicBuildpackOptions = {}): BuildpackPlugin {
  const root = resolve(dir);
  checkExecutable(root, 'detect', true);
  checkExecutable(root, 'compile', true);
  const hasRelease = checkExecutable(root, 'release', false);
  const id = options.id ?? classicIdFor(root);
  const origin = buildpackOrigin(id);
  const bin = (s: string) => join(root, 'bin', s);
  const baseEnv = (stack: string) => mergeEnv(process.env, { STACK: stack });

  return defineBuildpack(
    {
      id,
      name: id,
      ...(options.stage === undefined ? {} : { stage: options.stage }),
      async detect(ctx) {
        const r = await spawnLogged(bin('detect'), [ctx.buildDir], {
          cwd: ctx.buildDir,
          env: baseEnv(ctx.stack.id),
          log: ctx.log,
          stream: false,
          allowFailure: true,
          origin,
        });
        if (r.code === 0) return { detected: true, name: r.stdout.trim().split('\n')[0] || id };
        const said = (r.stdout.trim() || r.stderr.trim()).split('\n')[0];
        return { detected: false, reason: `bin/detect exited with code ${r.code}${said ? `: ${said}` : ''}` };
      },
      async compile(ctx) {
        const raw = rawContext(ctx);
        await mkdir(ctx.cacheDir, { recursive: true });
        const exportFile = join(root, 'export');
        // The export file is per build: one left by an earlier build must not leak into this one.
        await rm(exportFile, { force: true }).catch(() => {});
        // Heroku's contract: the app's config is only in ENV_DIR, never in the environment.
        const env = mergeEnv(process.env, raw.exports, { STACK: ctx.stack.id });
        await spawnLogged(bin('compile'), [ctx.buildDir, ctx.cacheDir, ctx.envDir], {
          cwd: ctx.buildDir,
          env,
          log: ctx.log,
          signal: ctx.signal,
          origin,
          indent: false,
        });
        if (existsSync(exportFile)) Object.assign(raw.exports, await sourceExportFile(exportFile, env));
      },
      ...(hasRelease
        ? {
            async release(ctx) {
              const r = await spawnLogged(bin('release'), [ctx.buildDir], {
                cwd: ctx.buildDir,
                env: baseEnv(ctx.stack.id),
                log: ctx.log,
                stream: false,
                origin,
              });
              return parseClassicRelease(r.stdout);
            },
          }
        : {}),
    },
    { ...(options.name ? { name: options.name } : {}), source: options.source ?? root },
  );
}
