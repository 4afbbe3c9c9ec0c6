/**
 * A Rust (Cargo) buildpack for Slipway, written as a third party would: it depends on
 * `@slipway/buildpack-sdk` only. It detects `Cargo.toml`, checks the installed toolchain against
 * `rust-version`, builds with `cargo build --release --locked` against two cache layers (the
 * Cargo home with the registry, keyed on Cargo's version and Cargo.lock; `target/`, keyed on the
 * exact rustc and Cargo.lock), copies the binaries to `bin/` and defaults `web` to the app's binary.
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BuildpackCompileContext,
  type CacheLayer,
  defineBuildpack,
  isSlipwayError,
} from '@slipway/buildpack-sdk';
import {
  type CargoApp,
  parseCargoMetadata,
  parseRustcVersion,
  pickWebBinary,
  type RustcInfo,
} from './cargo.js';
import { cargoFailure } from './failure.js';

/** Bump to drop every cached layer after a change in how layers are filled. */
const CACHE_FORMAT = 1;

/** Sourced at dyno start: the binaries on PATH, found from this file so the slug runs anywhere. */
const PROFILE_SCRIPT = `# Written by the Slipway Rust buildpack.
__slipway_app="$(cd "$(dirname "\${BASH_SOURCE[0]:-$0}")/.." && pwd)"
export PATH="$__slipway_app/bin:$PATH"
unset __slipway_app
`;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** What a build used, saved as each layer's metadata to explain the next build's cache miss. */
interface LastBuild {
  rustc: string;
  lock: string;
}

/** Run a toolchain program quietly; undefined when it is missing or fails. */
async function probe(ctx: BuildpackCompileContext, cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const r = await ctx.run(cmd, args, { stream: false, allowFailure: true });
    return r.code === 0 ? r.stdout : undefined;
  } catch (e) {
    if (isSlipwayError(e, 'SLIPWAY_ERR_BUILDPACK_COMMAND_NOT_FOUND')) return undefined;
    throw e;
  }
}

/** The installed rustc and cargo, or a build failure saying how to install them. */
async function toolchain(ctx: BuildpackCompileContext): Promise<{ rustc: RustcInfo; cargo: string }> {
  // Cargo itself honours RUSTC; reading the version through it keeps the cache key honest.
  const rustcCmd = ctx.env.RUSTC || 'rustc';
  const rustc = parseRustcVersion((await probe(ctx, rustcCmd, ['-vV'])) ?? '');
  const cargo = (await probe(ctx, 'cargo', ['--version']))?.trim();
  if (!rustc || !cargo)
    ctx.fail(
      `the Rust toolchain was not found on the build machine (\`${rustc ? 'cargo --version' : `${rustcCmd} -vV`}\` failed)`,
      'Install Rust on the build machine (rustup, or apt-get install cargo) and put `cargo` and `rustc` on PATH.',
    );
  return { rustc, cargo };
}

/** Run cargo; a failure becomes one line of cause and what to do. */
async function cargo(
  ctx: BuildpackCompileContext,
  args: string[],
  env: Record<string, string>,
  stream = true,
) {
  const r = await ctx.run('cargo', args, { env, allowFailure: true, stream });
  if (r.code === 0) return r.stdout;
  const f = cargoFailure(`${r.stderr}\n${r.stdout}`);
  const cause = f.line ?? `exit code ${r.code}`;
  switch (f.kind) {
    case 'compile':
      return ctx.fail(
        `compilation failed: ${cause}`,
        'Fix the error in the Rust code (`cargo build --release` shows it locally) and build again.',
      );
    case 'lockfile':
      return ctx.fail(
        `Cargo.lock is out of date with Cargo.toml: ${cause}`,
        'Run `cargo build` locally and commit the updated Cargo.lock.',
      );
    case 'dependency':
      return ctx.fail(
        `a crate could not be resolved or fetched: ${cause}`,
        'Check the crate names and versions in Cargo.toml exist on the registry, then commit Cargo.lock.',
      );
    case 'manifest':
      return ctx.fail(
        `Cargo.toml is not valid: ${cause}`,
        'Fix Cargo.toml (`cargo metadata` checks it locally) and build again.',
      );
    default:
      return ctx.fail(
        `\`cargo ${args[0]}\` failed: ${cause}`,
        'The output above shows why; fix Cargo.toml or the code and build again.',
      );
  }
}

/** Why a layer missed, from the metadata the previous build saved with it (`CacheLayer.previous`). */
function missReason(layer: CacheLayer, now: LastBuild, rustc: boolean): string {
  const last = layer.previous?.metadata as Partial<LastBuild> | undefined;
  if (!last) return 'first build';
  const why: string[] = [];
  if (rustc && last.rustc !== undefined && last.rustc !== now.rustc)
    why.push(`rustc changed (${last.rustc} -> ${now.rustc})`);
  if (last.lock !== undefined && last.lock !== now.lock) why.push('Cargo.lock changed');
  return why.join(', ') || 'cache format or build settings changed';
}

/** The Rust buildpack plugin. */
export const rustBuildpack = defineBuildpack(
  {
    id: 'rust',
    name: 'Rust',

    async detect(ctx) {
      if (await ctx.exists('Cargo.toml')) return { detected: true, name: 'Rust' };
      return { detected: false, reason: 'no Cargo.toml at the app root' };
    },

    async compile(ctx) {
      ctx.log.step('Checking Rust toolchain');
      const tc = await toolchain(ctx);
      ctx.log.info(`Using rustc ${tc.rustc.release} (${tc.rustc.host}), ${tc.cargo}`);

      const lockText = await ctx.readText('Cargo.lock');
      if (lockText === undefined)
        ctx.log.warn('No Cargo.lock: dependencies are resolved afresh on every build. Commit Cargo.lock.');
      const lockHash = sha256(lockText ?? `no lock|${(await ctx.readText('Cargo.toml')) ?? ''}`);
      const now: LastBuild = { rustc: tc.rustc.release, lock: lockHash };

      // The registry does not depend on rustc, only on what Cargo.lock pins (and Cargo's layout).
      const home = await ctx.cacheLayer('cargo-home', sha256(`${CACHE_FORMAT}|${tc.cargo}|${lockHash}`));
      // Compiled artefacts depend on the exact compiler build and flags, so -vV (commit hash) keys them.
      const flags = `${ctx.env.RUSTFLAGS ?? ''}|${ctx.env.CARGO_PROFILE_RELEASE_DEBUG ?? ''}`;
      const target = await ctx.cacheLayer(
        'target',
        sha256(`${CACHE_FORMAT}|${tc.rustc.verbose}|${lockHash}|${flags}`),
      );
      const env: Record<string, string> = { CARGO_HOME: home.dir, CARGO_TARGET_DIR: target.dir };
      if (home.hit) ctx.log.info('Using cached Cargo registry (Cargo.lock unchanged)');
      else ctx.log.info(`Cargo registry cache not used: ${missReason(home, now, false)}`);
      if (target.hit) ctx.log.info('Using cached target/ (rustc and Cargo.lock unchanged)');
      else ctx.log.info(`Compiling from scratch: ${missReason(target, now, true)}`);

      const app: CargoApp = parseCargoMetadata(
        await cargo(ctx, ['metadata', '--no-deps', '--format-version', '1'], env, false),
      );
      if (app.rustVersion) {
        ctx.log.info(`rust-version (Cargo.toml): ${app.rustVersion}`);
        ctx.requireVersion('Rust', `>=${app.rustVersion}`, tc.rustc.release);
      }
      if (!app.bins.length)
        return ctx.fail(
          'the Cargo project has no binary target',
          'Add src/main.rs (or a [[bin]] section to Cargo.toml): a library alone cannot run as a process.',
        );

      ctx.log.step(
        `Compiling ${app.bins.length} binar${app.bins.length > 1 ? 'ies' : 'y'} (release profile)`,
      );
      // Cargo decides freshness by mtime. Sources from a tarball or a rollback can be older than the
      // cached artefacts, which would ship the previous binary; touching them forces the app's own
      // crates to compile while the registry crates stay cached.
      await touchSources(ctx.buildDir);
      await cargo(ctx, ['build', '--release', ...(lockText !== undefined ? ['--locked'] : [])], env);
      await home.save({ cargo: tc.cargo, lock: lockHash });
      await target.save({ rustc: tc.rustc.release, lock: lockHash });

      await mkdir(join(ctx.buildDir, 'bin'), { recursive: true });
      let copied = 0;
      for (const bin of app.bins) {
        const dest = join(ctx.buildDir, 'bin', bin);
        // Cargo skips binaries outside `default-members` or with unmet `required-features`.
        const built = await copyFile(join(target.dir, 'release', bin), dest).then(
          () => true,
          () => false,
        );
        if (!built) {
          ctx.log.info(
            `${bin}: not built by \`cargo build --release\` (not a default member, or needs features)`,
          );
          continue;
        }
        await chmod(dest, 0o755);
        ctx.log.info(`${bin} -> bin/${bin}`);
        copied++;
      }
      if (!copied)
        ctx.fail(
          'cargo built none of the binary targets',
          'Make the binary part of the workspace default-members (or enable its required-features in Cargo.toml).',
        );
      await ctx.profileD('rust', PROFILE_SCRIPT);
    },

    async release(ctx) {
      const bins = await readdir(join(ctx.buildDir, 'bin')).catch(() => [] as string[]);
      const web = pickWebBinary({
        rootPackage: rootPackageName(await ctx.readText('Cargo.toml')),
        rustVersion: undefined,
        bins,
      });
      return web ? { processTypes: { web: `bin/${web}` } } : {};
    },
  },
  { name: '@slipway-examples/buildpack-rust' },
);

/** Set every file's mtime under `dir` to now (skipping .git and a committed target/). */
async function touchSources(dir: string, now = new Date()): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '.git' && entry.name !== 'target') await touchSources(path, now);
    } else if (entry.isFile()) await utimes(path, now, now);
  }
}

/** The `[package]` name in Cargo.toml text (release has no toolchain to ask, and needs only this). */
export function rootPackageName(toml: string | undefined): string | undefined {
  const section = toml?.split(/^\s*\[/m).find((s) => /^package\]/.test(s));
  return section?.match(/^\s*name\s*=\s*["']([^"']+)["']/m)?.[1];
}

export default rustBuildpack;
export {
  type CargoApp,
  parseCargoMetadata,
  parseRustcVersion,
  pickWebBinary,
  type RustcInfo,
} from './cargo.js';
