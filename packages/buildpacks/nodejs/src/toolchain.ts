/**
 * Finding the tools the build needs on the build environment's PATH: Node.js itself, npm, and
 * Yarn or pnpm through corepack (or installed globally when corepack is absent).
 */
import { readFile, realpath } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import type { BuildpackCompileContext } from '@slipway/buildpack-sdk';
import type { PackageManagerName } from './package-manager.js';

/** How to invoke a package manager: `npm …` directly or `corepack pnpm …`. */
export interface PackageManagerRunner {
  name: PackageManagerName;
  version: string;
  /** Program to spawn. */
  command: string;
  /** Arguments that come before the package manager's own (`['pnpm']` for corepack). */
  prefix: string[];
  /** Extra environment every invocation needs (corepack's home and prompts). */
  env: Record<string, string>;
}

/** Run `command args` quietly; undefined when the program is not on PATH. */
export async function probe(
  ctx: BuildpackCompileContext,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string } | undefined> {
  try {
    return await ctx.run(command, args, { stream: false, allowFailure: true, env });
  } catch (e) {
    if ((e as { code?: string }).code === 'SLIPWAY_ERR_BUILDPACK_COMMAND_NOT_FOUND') return undefined;
    throw e;
  }
}

/** The first line of stderr that says what went wrong, for one-line error messages. */
export function firstErrorLine(stderr: string, patterns: RegExp[]): string | undefined {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  for (const re of patterns) {
    const hit = lines.find((l) => re.test(l));
    if (hit) return hit;
  }
  return lines.find((l) => /error/i.test(l)) ?? lines[0];
}

/**
 * Resolve the runner for `name`: npm from PATH; Yarn and pnpm through corepack (which fetches the
 * pinned version from the npm registry into `corepackHome`), else a global install on PATH.
 */
export async function packageManagerRunner(
  ctx: BuildpackCompileContext,
  name: PackageManagerName,
  corepackHome: string,
): Promise<PackageManagerRunner> {
  if (name === 'npm') {
    const known = await npmVersionOnPath(ctx.env.PATH ?? process.env.PATH ?? '');
    if (known) return { name, version: known, command: 'npm', prefix: [], env: {} };
    const r = await probe(ctx, 'npm', ['--version']);
    if (r?.code !== 0)
      ctx.fail(
        'npm was not found on the build machine (`npm --version` failed)',
        'Install npm next to Node.js on the build machine (apt-get install npm) and make sure it is on PATH.',
      );
    return { name, version: r.stdout.trim(), command: 'npm', prefix: [], env: {} };
  }
  const env = { COREPACK_HOME: corepackHome, COREPACK_ENABLE_DOWNLOAD_PROMPT: '0' };
  const viaCorepack = await probe(ctx, 'corepack', [name, '--version'], env);
  if (viaCorepack?.code === 0)
    return { name, version: lastLine(viaCorepack.stdout), command: 'corepack', prefix: [name], env };
  const direct = await probe(ctx, name, ['--version']);
  if (direct?.code === 0)
    return { name, version: lastLine(direct.stdout), command: name, prefix: [], env: {} };
  if (viaCorepack) {
    const why =
      firstErrorLine(viaCorepack.stderr, [/^Error:/, /^Usage Error/]) ?? `exit code ${viaCorepack.code}`;
    const signature = /signature/i.test(viaCorepack.stderr);
    ctx.fail(
      `corepack could not provide ${name}: ${why}`,
      signature
        ? `This corepack's npm signing keys are out of date: upgrade corepack on the build machine, or set the config var COREPACK_INTEGRITY_KEYS=0 to skip the signature check.`
        : `Check "packageManager" in package.json names a published ${name} version, or install ${name} globally on the build machine.`,
    );
  }
  ctx.fail(
    `this app uses ${name} (its lockfile or "packageManager" says so), but neither corepack nor ${name} is on the build machine`,
    `Install corepack (npm install -g corepack) or ${name} on the build machine, or switch the app to npm (delete the ${name} lockfile and commit a package-lock.json).`,
  );
}

/**
 * npm's version read from the package.json next to the `npm` found on PATH: the same answer as
 * `npm --version` without starting npm (a tenth of a second, a sixth of a warm build).
 * Undefined when npm is laid out differently; the caller then asks npm itself.
 */
export async function npmVersionOnPath(pathVar: string): Promise<string | undefined> {
  for (const dir of pathVar.split(delimiter).filter(Boolean)) {
    const bin = join(dir, 'npm');
    const real = await realpath(bin).catch(() => undefined);
    if (!real) continue;
    try {
      const pkg = JSON.parse(await readFile(join(dirname(real), '..', 'package.json'), 'utf8'));
      return pkg?.name === 'npm' && typeof pkg.version === 'string' ? pkg.version : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function lastLine(text: string): string {
  const lines = text.trim().split(/\r?\n/);
  return (lines[lines.length - 1] ?? '').trim();
}
