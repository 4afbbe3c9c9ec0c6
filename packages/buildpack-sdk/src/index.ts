/**
 * @slipway/buildpack-sdk: everything a buildpack author needs, in one package. Write a buildpack
 * with `defineBuildpack`, run a Heroku classic one with `classicBuildpack`, test it with
 * `testBuildpack`, start one with `scaffoldBuildpack`.
 */

// Core types and values a buildpack author needs, so a buildpack depends on this package only.
export {
  type AppJson,
  type BuildLog,
  type BuildpackEntry,
  type BuildResult,
  createBuildLog,
  type Detection,
  DetectStage,
  defineErrors,
  type ErrorSpec,
  freePort,
  indentOutput,
  isSlipwayError,
  KERNEL_VERSION,
  type Kernel,
  type Plugin,
  type ReleaseSpec,
  SlipwayError,
  type StackInfo,
} from '@slipway/core';
export { openCacheLayer } from './cache-layer.js';
export {
  type ClassicBuildpackOptions,
  classicBuildpack,
  classicIdFor,
  parseClassicRelease,
} from './classic.js';
export { buildEnv, createCompileContext, createDetectContext, createReleaseContext } from './contexts.js';
export {
  type DebianPackage,
  type DebianSource,
  debianPackages,
  debianPackagesFrom,
  debianSource,
  debianSuitesFrom,
  glibcAtLeast,
  parsePackages,
  runningGlibc,
  unpackDebianPackages,
} from './debian-packages.js';
export {
  type BuildpackPlugin,
  type DefineBuildpackOptions,
  defineBuildpack,
  mergeRelease,
  SDK_KERNEL_RANGE,
} from './define-buildpack.js';
export { renderExports, shellDoubleQuote, sourceExportFile, writeProfileD } from './env-files.js';
export { buildpackErrors, toBuildpackError } from './errors.js';
export {
  type TestBuildpackOptions,
  type TestBuildpackResult,
  testBuildpack,
} from './harness.js';
export {
  cloneBuildpack,
  defaultBuildpackCache,
  isGitUrl,
  type ResolveBuildpackOptions,
  resolveBuildpack,
} from './resolve.js';
export { type SpawnOptions, showCommand, spawnLogged } from './run.js';
export {
  type CachedListOptions,
  type Checksum,
  cachedList,
  downloadVerified,
  fetchChecked,
  newestPerLine,
  newestSatisfying,
} from './runtime-install.js';
export {
  buildpackIdFromName,
  type ScaffoldBuildpackOptions,
  type ScaffoldResult,
  scaffoldBuildpack,
  sdkDependencySpec,
} from './scaffold.js';
export {
  runSlug,
  type SlugExit,
  type SlugProcess,
  type StartSlugOptions,
  startSlug,
  unpackSlug,
} from './start-slug.js';
export type * from './types.js';
export { requireVersion, toSemverRange } from './version.js';
