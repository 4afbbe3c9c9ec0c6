/**
 * `defineBuildpack`: turns an author's `{ id, name, detect, compile, release }` into a kernel
 * plugin that registers the buildpack in the catalogue and taps `detect` (at its stage),
 * `compile.for(id)` and `release` (for its own turn only).
 */
import { rm } from 'node:fs/promises';
import { DetectStage, KERNEL_VERSION, type Plugin, type ReleaseSpec } from '@slipway/core';
import {
  createCompileContext,
  createDetectContext,
  createReleaseContext,
  exportFilePath,
} from './contexts.js';
import { buildpackErrors, toBuildpackError } from './errors.js';
import type { BuildpackDefinition, ReleaseResult } from './types.js';

/** Kernel range an SDK-made buildpack declares unless its definition says otherwise. */
export const SDK_KERNEL_RANGE = `^${KERNEL_VERSION}`;

const BUILDPACK_ID = /^[a-z0-9][a-z0-9._-]*$/;

/** Options of `defineBuildpack` that are about packaging, not behaviour. */
export interface DefineBuildpackOptions {
  /** Plugin name; default `buildpack-<id>`. Pass your package name. */
  name?: string;
  /** Where the buildpack came from (package, path or URL), shown in listings. */
  source?: string;
}

/** A plugin made by `defineBuildpack`, carrying its definition for harnesses and tools. */
export interface BuildpackPlugin extends Plugin {
  /** The definition the plugin was made from. */
  readonly buildpack: BuildpackDefinition;
}

/** Check an author's definition early, so a typo fails at load time with its id. */
function validate(def: BuildpackDefinition): void {
  const id = typeof def?.id === 'string' ? def.id : '(no id)';
  const bad = (detail: string) => buildpackErrors.SLIPWAY_ERR_BUILDPACK_DEFINITION({ id, detail });
  if (!def || typeof def !== 'object') throw bad('it is not an object');
  if (typeof def.id !== 'string' || !BUILDPACK_ID.test(def.id))
    throw bad('"id" must be lower-case letters, digits, ".", "-" or "_" (e.g. "nodejs")');
  if (typeof def.name !== 'string' || !def.name)
    throw bad('"name" must be a non-empty string (e.g. "Node.js")');
  if (typeof def.detect !== 'function') throw bad('"detect" must be a function');
  if (typeof def.compile !== 'function') throw bad('"compile" must be a function');
  if (def.release !== undefined && typeof def.release !== 'function')
    throw bad('"release" must be a function');
}

/** Merge a buildpack's release result into the spec; later buildpacks' process types win. */
export function mergeRelease(spec: ReleaseSpec, r: ReleaseResult | undefined): ReleaseSpec {
  if (!r) return spec;
  const addons = [...spec.addons];
  for (const a of r.addons ?? []) if (!addons.includes(a)) addons.push(a);
  return {
    processTypes: { ...spec.processTypes, ...(r.processTypes ?? {}) },
    configDefaults: { ...spec.configDefaults, ...(r.configVars ?? {}) },
    addons,
  };
}

/** Make a kernel plugin from a buildpack definition. */
export function defineBuildpack(
  def: BuildpackDefinition,
  options: DefineBuildpackOptions = {},
): BuildpackPlugin {
  validate(def);
  const { id } = def;
  const name = options.name ?? `buildpack-${id}`;
  return {
    name,
    kernel: def.kernel ?? SDK_KERNEL_RANGE,
    buildpack: def,
    // Pure: a buildpack only declares itself and taps; nothing to start.
    register(reg) {
      const existing = reg.catalog.buildpacks.get(id);
      if (existing)
        throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_DUPLICATE({ id, first: existing.plugin, second: name });
      reg.buildpack({ id, name: def.name, ...(options.source ? { source: options.source } : {}) });

      reg.hooks.detect.tapPromise({ name, stage: def.stage ?? DetectStage.LANGUAGE }, async (ctx) => {
        if (ctx.only !== undefined && ctx.only !== id) return undefined;
        let result: Awaited<ReturnType<BuildpackDefinition['detect']>>;
        try {
          result = await def.detect(createDetectContext(ctx));
        } catch (e) {
          throw toBuildpackError(e, id, 'detect');
        }
        if (result?.detected) return { buildpack: id, name: result.name || def.name };
        // "Not for me" is an answer, not an error: the pipeline shows the reason when pinned.
        ctx.reasons?.set(id, result?.reason || 'detect said no');
        return undefined;
      });

      reg.hooks.compile.for(id).tapPromise(name, async (ctx) => {
        try {
          // A cache dir outlives builds: an export file from the last one must not leak in.
          await rm(exportFilePath(ctx), { force: true });
          await def.compile(createCompileContext(ctx, id));
        } catch (e) {
          throw toBuildpackError(e, id, 'compile');
        }
      });

      reg.hooks.release.tapPromise(name, async (spec, ctx) => {
        if (ctx.buildpack !== id || !def.release) return spec;
        try {
          return mergeRelease(spec, await def.release(createReleaseContext(ctx)));
        } catch (e) {
          throw toBuildpackError(e, id, 'release');
        }
      });
    },
  };
}
