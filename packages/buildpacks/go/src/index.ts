/**
 * The Go buildpack: detects `go.mod`, chooses the Go it asks for (go-runtime.ts: the platform's,
 * or a toolchain from the Go module proxy), downloads modules (or uses `vendor/`) into a cached
 * module cache, builds every main package to `bin/` with a cached build cache, and defaults
 * `web` to the module's binary.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type BuildpackCompileContext, defineBuildpack } from '@slipway/buildpack-sdk';
import { binaryName, parseGoMod, pickWebBinary } from './go-mod.js';
import { resolveGo } from './go-runtime.js';
import { goFailure } from './toolchain.js';

/** Bump to invalidate cached layers after a change in how they are made. */
const CACHE_FORMAT = 1;

/** Sourced at dyno start: the built binaries on PATH, found relative to this file. */
const PROFILE_SCRIPT = `# Written by the Slipway Go buildpack.
# Paths are found from this file, so the slug runs from whatever directory it is unpacked in.
__slipway_app="$(cd "$(dirname "\${BASH_SOURCE[0]:-$0}")/.." && pwd)"
export PATH="$__slipway_app/bin:$PATH"
unset __slipway_app
`;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Run a `go` command; a failure becomes one line of cause and what to do. */
async function runGo(
  ctx: BuildpackCompileContext,
  command: string,
  args: string[],
  env: Record<string, string>,
  stream = true,
): Promise<string> {
  const r = await ctx.run(command, args, { env, allowFailure: true, stream });
  if (r.code === 0) return r.stdout;
  const f = goFailure(`${r.stderr}\n${r.stdout}`);
  const cause = f.line ?? `exit code ${r.code}`;
  if (f.kind === 'compile')
    ctx.fail(
      `compilation failed: ${cause}`,
      'Fix the error in the Go code (`go build ./...` shows it locally) and build again.',
    );
  if (f.kind === 'module')
    ctx.fail(
      `a Go module could not be fetched: ${cause}`,
      'Check the module paths and versions in go.mod exist, run `go mod tidy` locally and commit go.mod and go.sum.',
    );
  ctx.fail(
    `\`go ${args[0]}\` failed: ${cause}`,
    'The output above shows why; fix go.mod or the code and build again.',
  );
}

/** The Go buildpack plugin. */
export const goBuildpack = defineBuildpack(
  {
    id: 'go',
    name: 'Go',

    async detect(ctx) {
      if (await ctx.exists('go.mod')) return { detected: true, name: 'Go' };
      return { detected: false, reason: 'no go.mod at the app root (GOPATH-style apps are not supported)' };
    },

    async compile(ctx) {
      const mod = parseGoMod((await ctx.readText('go.mod')) ?? '');
      if (!mod.module)
        return ctx.fail(
          'go.mod has no `module` line',
          'Start go.mod with `module <path>` (go mod init <path> writes it).',
        );

      // Never let `go` fetch another toolchain itself: the buildpack chooses and caches it.
      const baseEnv: Record<string, string> = { GOTOOLCHAIN: 'local' };
      ctx.log.step('Checking Go version');
      const runtime = await resolveGo(ctx, mod, baseEnv);
      const goVersion = runtime.version;
      const go = (args: string[], env: Record<string, string>, stream = true) =>
        runGo(ctx, runtime.command, args, env, stream);

      // Go keys its build cache on the compiler's own id and every input, so one cache can serve
      // any Go version safely: a Go upgrade recompiles only what changed instead of all of std.
      const buildCache = await ctx.cacheLayer('go-build', sha256(`${CACHE_FORMAT}|${process.arch}`));
      const userFlags = ctx.env.GOFLAGS ?? process.env.GOFLAGS ?? '';
      const env: Record<string, string> = {
        ...baseEnv,
        GOCACHE: buildCache.dir,
        GOPATH: join(ctx.cacheDir, 'gopath'),
        GOFLAGS: `${userFlags} -modcacherw -buildvcs=false`.trim(),
      };

      const vendored = await ctx.exists('vendor/modules.txt');
      if (vendored) {
        ctx.log.step('Using vendored dependencies');
        ctx.log.info('vendor/modules.txt found: building with -mod=vendor, nothing is downloaded');
        env.GOFLAGS = `${env.GOFLAGS} -mod=vendor`;
        env.GOPROXY = 'off';
      } else {
        const goSum = (await ctx.readText('go.sum')) ?? '';
        const modules = await ctx.cacheLayer(
          'go-modules',
          sha256(`${CACHE_FORMAT}|${goVersion}|${sha256(goSum)}|${sha256(await requireLines(ctx))}`),
        );
        env.GOMODCACHE = modules.dir;
        if (modules.hit) {
          ctx.log.step('Restoring cached modules');
          ctx.log.info('Using cached Go modules (Go version and go.sum unchanged)');
        } else {
          ctx.log.step('Downloading modules');
          await go(['mod', 'download'], env);
          await modules.save({ go: goVersion });
        }
      }
      if (buildCache.hit) ctx.log.info('Using cached Go build cache');

      const listed = await go(
        ['list', '-f', '{{if eq .Name "main"}}{{.ImportPath}}{{end}}', ...(mod.install ?? ['./...'])],
        env,
        false,
      );
      const mains = listed.split(/\r?\n/).filter(Boolean);
      if (!mains.length)
        return ctx.fail(
          'no main package found in the module',
          'Add a `package main` with func main() (at the module root or under cmd/<name>), or name packages with `// +heroku install ./cmd/...` in go.mod.',
        );

      ctx.log.step(`Compiling ${mains.length} main package${mains.length > 1 ? 's' : ''}`);
      for (const m of mains) ctx.log.info(`${m} -> bin/${binaryName(m)}`);
      await mkdir(join(ctx.buildDir, 'bin'), { recursive: true });
      await go(['build', '-trimpath', '-o', `${join(ctx.buildDir, 'bin')}/`, ...mains], env);
      await buildCache.save({ go: goVersion });

      await ctx.profileD('go', PROFILE_SCRIPT);
    },

    async release(ctx) {
      const mod = parseGoMod((await ctx.readText('go.mod')) ?? '');
      const binaries = await readdir(join(ctx.buildDir, 'bin')).catch(() => [] as string[]);
      const web = pickWebBinary(mod.module, binaries);
      return web ? { processTypes: { web: `bin/${web}` } } : {};
    },
  },
  { name: '@slipway/buildpack-go' },
);

/** The requirement lines of go.mod: a change there without a go.sum change must still refetch. */
async function requireLines(ctx: BuildpackCompileContext): Promise<string> {
  const text = (await ctx.readText('go.mod')) ?? '';
  return text
    .split(/\r?\n/)
    .filter((l) => !/^\s*(\/\/|go\s|toolchain\s|module\s)/.test(l))
    .join('\n');
}

export default goBuildpack;
export { binaryName, type GoMod, goDirectiveRange, parseGoMod, pickWebBinary } from './go-mod.js';
export { type GoRequest, type GoRuntime, goRequest, toolchainReleases } from './go-runtime.js';
