/** Finding the installed Go toolchain and turning `go` failures into one line of cause. */
import type { BuildpackCompileContext } from '@slipway/buildpack-sdk';

/** The installed Go version (`go1.26.8`), or a build failure saying Go is missing. */
export async function installedGo(
  ctx: BuildpackCompileContext,
  env: Record<string, string>,
): Promise<string> {
  let r: { code: number; stdout: string } | undefined;
  try {
    r = await ctx.run('go', ['env', 'GOVERSION'], { stream: false, allowFailure: true, env });
  } catch (e) {
    if ((e as { code?: string }).code !== 'SLIPWAY_ERR_BUILDPACK_COMMAND_NOT_FOUND') throw e;
  }
  const version = r?.code === 0 ? r.stdout.trim() : '';
  if (!/^go\d/.test(version))
    ctx.fail(
      'the Go toolchain was not found on the build machine (`go env GOVERSION` failed)',
      'Install Go on the build machine (apt-get install golang-go, or the go.dev tarball) and put `go` on PATH.',
    );
  return version;
}

/** The most telling line of a failed `go` command's output, with its kind. */
export function goFailure(output: string): {
  kind: 'compile' | 'module' | 'other';
  line: string | undefined;
} {
  const lines = output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const compile = lines.find((l) => /\.go:\d+(:\d+)?: /.test(l));
  if (compile) return { kind: 'compile', line: compile };
  const module = lines.find((l) =>
    /reading https?:|404 Not Found|410 Gone|unknown revision|invalid version|no matching versions|cannot find module|missing go\.sum entry|verifying .*: checksum mismatch|dial tcp/i.test(
      l,
    ),
  );
  if (module) return { kind: 'module', line: module };
  return { kind: 'other', line: lines.find((l) => l.startsWith('go: ')) ?? lines[0] };
}
