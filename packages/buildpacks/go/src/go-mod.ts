/**
 * Reading `go.mod`: the module path, the `go` directive (the minimum Go the module needs), the
 * `toolchain` directive and Heroku's `// +heroku install` and `// +heroku goVersion` comments. Pure functions.
 */

/** What the buildpack needs from go.mod. */
export interface GoMod {
  /** Module path, e.g. `github.com/acme/app`. */
  module: string | undefined;
  /** The `go` directive, e.g. `1.22` or `1.22.3`. */
  go: string | undefined;
  /** The `toolchain` directive without its `go` prefix, e.g. `1.23.4`. */
  toolchain: string | undefined;
  /** Packages named by `// +heroku install ./cmd/...`, when present. */
  install: string[] | undefined;
  /** Heroku's `// +heroku goVersion go1.25` without its `go` prefix, e.g. `1.25`. */
  herokuGoVersion: string | undefined;
}

/** Parse go.mod text (only the lines the buildpack uses; the go command validates the rest). */
export function parseGoMod(text: string): GoMod {
  let module: string | undefined;
  let go: string | undefined;
  let toolchain: string | undefined;
  let install: string[] | undefined;
  let herokuGoVersion: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const heroku = /^\/\/\s*\+heroku\s+install\s+(.+)$/.exec(line);
    if (heroku) install = heroku[1]!.trim().split(/\s+/);
    const goVersion = /^\/\/\s*\+heroku\s+goVersion\s+go(\S+)$/.exec(line);
    if (goVersion) herokuGoVersion = goVersion[1];
    const code = line.replace(/\/\/.*$/, '').trim();
    let m = /^module\s+"?([^"\s]+)"?$/.exec(code);
    if (m) module = m[1];
    m = /^go\s+(\S+)$/.exec(code);
    if (m) go = m[1];
    m = /^toolchain\s+go(\S+)$/.exec(code);
    if (m) toolchain = m[1];
  }
  return { module, go, toolchain, install, herokuGoVersion };
}

/**
 * The `go` directive as a semver range: it is a minimum (`go 1.22` accepts Go 1.22.0 and any
 * later release). Undefined when the directive is absent; `invalid` when it is not a version.
 */
export function goDirectiveRange(directive: string | undefined): string | undefined | 'invalid' {
  if (directive === undefined) return undefined;
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?$/.exec(directive);
  if (!m) return 'invalid';
  // A pre-release directive (1.23rc1) asks for at least that release's final minor series.
  return `>=${m[1]}.${m[2]}.${m[3] ?? '0'}`;
}

/** Go's version text (`go1.26.8`, `go1.23rc1`) as plain `1.26.8`. */
export function plainGoVersion(goVersion: string): string {
  return goVersion.trim().replace(/^go/, '');
}

/** The file name `go build -o dir/` gives a main package: its last path element, skipping `/vN`. */
export function binaryName(importPath: string): string {
  const parts = importPath.split('/').filter(Boolean);
  const last = parts[parts.length - 1] ?? importPath;
  if (parts.length > 1 && /^v\d+$/.test(last)) return parts[parts.length - 2]!;
  return last;
}

/**
 * The binary the default `web` process runs: the module root's, else the only one, else one
 * called `web` or `server`. Undefined means the app needs a Procfile.
 */
export function pickWebBinary(module: string | undefined, binaries: readonly string[]): string | undefined {
  if (module && binaries.includes(binaryName(module))) return binaryName(module);
  if (binaries.length === 1) return binaries[0];
  return binaries.find((b) => b === 'web') ?? binaries.find((b) => b === 'server');
}
