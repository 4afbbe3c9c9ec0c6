/**
 * Which Go builds the app, as Heroku's Go buildpack and `GOTOOLCHAIN` choose it: go.mod's
 * `// +heroku goVersion go1.25` (newest 1.25.x) first, then its `toolchain go1.23.4` line (that
 * release), then its `go` line (a minimum: the platform's Go when it is new enough, else the
 * newest release of that minor). A Go other than the platform's comes from the Go module proxy's
 * `golang.org/toolchain` modules, the same zips `GOTOOLCHAIN` downloads, cached per version.
 * Go binaries are static: the toolchain stays in the build cache, never in the slug.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BuildpackCompileContext,
  buildpackErrors,
  cachedList,
  downloadVerified,
  fetchChecked,
  newestPerLine,
  newestSatisfying,
} from '@slipway/buildpack-sdk';
import { type GoMod, goDirectiveRange, plainGoVersion } from './go-mod.js';
import { installedGo } from './toolchain.js';

/** How long the proxy's list of toolchains answers version questions before it is fetched again. */
const VERSION_LIST_TTL_MS = 60 * 60 * 1000;

/** The Go a build uses. */
export interface GoRuntime {
  /** `go1.25.14` */
  version: string;
  /** The `go` program to run: `go` on PATH, or the downloaded toolchain's absolute path. */
  command: string;
  source: 'platform' | 'proxy';
}

/** What go.mod asks for, and which line said it. */
export interface GoRequest {
  /** A semver range over plain versions (`1.25.x`, `1.23.4`, `>=1.22.0`). */
  range: string;
  /** `minimum`: the go line, which the platform's Go may satisfy; `exact`: a release or a line of them. */
  kind: 'minimum' | 'exact';
  /** The go.mod text that asked, for the log and errors. */
  said: string;
}

/** The app's request from go.mod, undefined when it names no Go at all. */
export function goRequest(mod: GoMod): GoRequest | undefined | 'invalid' {
  if (mod.herokuGoVersion) {
    const v = mod.herokuGoVersion;
    return { range: /^\d+\.\d+$/.test(v) ? `${v}.x` : v, kind: 'exact', said: `// +heroku goVersion go${v}` };
  }
  if (mod.toolchain) return { range: mod.toolchain, kind: 'exact', said: `toolchain go${mod.toolchain}` };
  const min = goDirectiveRange(mod.go);
  if (min === 'invalid') return 'invalid';
  return min ? { range: min, kind: 'minimum', said: `go ${mod.go}` } : undefined;
}

/**
 * The module proxy to fetch toolchains from: the first URL in GOPROXY, Go's default when it is
 * unset, undefined when it names none (`off`, `direct`): then nothing is downloaded.
 */
function proxyUrl(ctx: BuildpackCompileContext): string | undefined {
  const setting = ctx.env.GOPROXY ?? process.env.GOPROXY;
  if (!setting) return 'https://proxy.golang.org';
  const first = setting
    .split(/[,|]/)
    .map((s) => s.trim())
    .find((s) => /^https?:\/\//.test(s));
  return first?.replace(/\/$/, '');
}

/** `linux-amd64` for this machine, as the toolchain module versions spell it. */
export function goPlatform(platform: string = process.platform, arch: string = process.arch): string {
  return `${platform}-${arch === 'x64' ? 'amd64' : arch}`;
}

/** Plain releases (`1.25.14`) in the proxy's list of toolchain module versions for `platform`. */
export function toolchainReleases(list: string, platform: string): string[] {
  const suffix = `.${platform}`;
  return list
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.startsWith('v0.0.1-go') && l.endsWith(suffix))
    .map((l) => l.slice('v0.0.1-go'.length, -suffix.length))
    .map((v) => (/^\d+\.\d+$/.test(v) ? `${v}.0` : v));
}

/** Choose the Go for `mod` and, when it is not the platform's, install it from the proxy. */
export async function resolveGo(
  ctx: BuildpackCompileContext,
  mod: GoMod,
  env: Record<string, string>,
): Promise<GoRuntime> {
  const request = goRequest(mod);
  if (request === 'invalid')
    return ctx.fail(
      `go.mod says \`go ${mod.go}\`, which is not a Go version`,
      'Write the go directive as a release such as `go 1.22` or `go 1.22.3`.',
    );
  ctx.log.info(`Go version (go.mod): ${request?.said ?? 'unspecified'}`);
  const proxy = proxyUrl(ctx);
  // Without a proxy to download from, the platform's Go is the only one: its absence is the error.
  const host = proxy ? await installedGo(ctx, env).catch(() => undefined) : await installedGo(ctx, env);
  const hostPlain = host ? plainGoVersion(host) : undefined;
  // The platform's Go serves an app that names none, a minimum it meets, or exactly its release
  // (`toolchain go1.26.8` on go1.26.8): no list of releases is needed then, nor the network.
  if (
    host &&
    hostPlain &&
    (!request ||
      request.range === hostPlain ||
      (request.kind === 'minimum' && satisfies(ctx, request.range, hostPlain)))
  ) {
    ctx.log.info(`Using Go ${hostPlain} (installed)`);
    return { version: host, command: 'go', source: 'platform' };
  }
  if (!request)
    return ctx.fail('Go was not found on the build machine', 'Install Go, or name a version in go.mod.');

  if (!proxy)
    return ctx.fail(
      `go.mod asks for ${request.said} and GOPROXY (${ctx.env.GOPROXY ?? process.env.GOPROXY}) names no proxy to download that Go from`,
      'Set GOPROXY to a module proxy (the default is https://proxy.golang.org), or ask for the installed Go.',
    );
  const platform = goPlatform();
  // A go line newer than the platform's Go switches to that minor's newest release, as Heroku does.
  const range =
    request.kind === 'minimum' ? `${request.range.replace(/^>=(\d+\.\d+).*$/, '$1')}.x` : request.range;
  const list = `${proxy}/golang.org/toolchain/@v/list`;
  // Kept for an hour, fetched anew when it has no release in range (one published since is found).
  const releases = await cachedList(
    ctx.cacheDir,
    `go-toolchains-${platform}`,
    VERSION_LIST_TTL_MS,
    () =>
      fetchChecked({ tool: 'Go', version: 'list' }, list, { signal: ctx.signal }, async (res) =>
        toolchainReleases(await res.text(), platform),
      ),
    { from: list, enough: (kept) => newestSatisfying('Go', range, kept) !== undefined },
  );
  const version = newestSatisfying('Go', range, releases);
  if (!version)
    throw buildpackErrors.SLIPWAY_ERR_BUILDPACK_RUNTIME_UNAVAILABLE({
      file: `go.mod (${request.said})`,
      tool: 'Go',
      constraint: range,
      source: `the Go module proxy's golang.org/toolchain (${platform})`,
      available: `${newestPerLine(releases, 'minor', 10).join(', ')} (newest of each minor)`,
    });
  if (hostPlain === version) {
    ctx.log.info(`Using Go ${version} (installed)`);
    return { version: `go${version}`, command: 'go', source: 'platform' };
  }
  ctx.log.step(`Installing Go ${version}`);
  const layer = await ctx.cacheLayer('go-toolchain', `go${version}|${platform}`);
  const root = join(layer.dir, 'go');
  const command = join(root, 'bin', 'go');
  const runtime: GoRuntime = { version: `go${version}`, command, source: 'proxy' };
  // What the layer's own `go` says it is (never a `go` further down PATH); undefined when it does not run.
  const reports = async () => {
    const r = await ctx
      .run(command, ['env', 'GOVERSION'], { stream: false, allowFailure: true, env })
      .catch(() => undefined);
    return r?.code === 0 ? r.stdout.trim() : undefined;
  };
  if (layer.hit) {
    if ((await reports()) === runtime.version) {
      ctx.log.info(`Using cached Go ${version}`);
      return runtime;
    }
    ctx.log.info(`The cached Go ${version} does not run as itself: downloading it again`);
    await rm(layer.dir, { recursive: true, force: true });
    await mkdir(layer.dir, { recursive: true });
  }
  const module = `v0.0.1-go${version}.${platform}`;
  ctx.log.info(`Downloading golang.org/toolchain@${module} from the Go module proxy`);
  const zip = join(layer.dir, 'toolchain.zip');
  await downloadVerified(
    { tool: 'Go', version },
    `${proxy}/golang.org/toolchain/@v/${module}.zip`,
    zip,
    { none: 'the proxy serves no checksum beside the zip, and the checksum database is out of reach' },
    ctx.signal,
  );
  await ctx.run('unzip', ['-q', zip, '-d', layer.dir], { stream: false });
  await rm(zip, { force: true });
  await rename(join(layer.dir, `golang.org/toolchain@${module}`), root);
  await rm(join(layer.dir, 'golang.org'), { recursive: true, force: true });
  // Saved only once it runs: a toolchain that does not is never taken from the cache.
  const installed = await reports();
  if (installed !== runtime.version)
    return ctx.fail(
      `the downloaded Go ${version} reports ${installed ?? 'nothing (it does not run here)'}`,
      'Build again; the toolchain is downloaded anew.',
    );
  await layer.save({ version });
  return runtime;
}

function satisfies(ctx: BuildpackCompileContext, range: string, version: string): boolean {
  try {
    ctx.requireVersion('Go', range, version);
    return true;
  } catch {
    return false;
  }
}
