/**
 * Pure helpers over what Cargo and rustc print: `cargo metadata` (the app's packages, binaries
 * and `rust-version`), `rustc -vV` (the toolchain's identity) and the choice of the web binary.
 * Kept free of I/O so they are unit-tested without a toolchain.
 */

/** What the buildpack needs from `cargo metadata --no-deps --format-version 1`. */
export interface CargoApp {
  /** Name of the package at the workspace root, when the root is a package (not a virtual workspace). */
  rootPackage: string | undefined;
  /** The strictest `rust-version` among the workspace members, if any declares one. */
  rustVersion: string | undefined;
  /** Binary targets of the workspace members, in Cargo's order. */
  bins: string[];
}

interface MetadataTarget {
  name: string;
  kind: string[];
}
interface MetadataPackage {
  name: string;
  id: string;
  manifest_path: string;
  rust_version?: string | null;
  targets: MetadataTarget[];
}
interface Metadata {
  packages: MetadataPackage[];
  workspace_members: string[];
  workspace_root: string;
}

/** Compare two dotted versions numerically (`1.70` < `1.70.1` < `1.80`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** Read the parts of `cargo metadata` output the build needs; throws on output that is not metadata. */
export function parseCargoMetadata(json: string): CargoApp {
  const m = JSON.parse(json) as Metadata;
  if (!Array.isArray(m.packages) || !Array.isArray(m.workspace_members))
    throw new Error('cargo metadata printed JSON without packages/workspace_members');
  const members = new Set(m.workspace_members);
  const pkgs = m.packages.filter((p) => members.has(p.id));
  const root = pkgs.find((p) => p.manifest_path === `${m.workspace_root}/Cargo.toml`);
  const versions = pkgs.map((p) => p.rust_version).filter((v): v is string => !!v);
  const rustVersion = versions.sort(compareVersions).at(-1);
  const bins = pkgs.flatMap((p) => p.targets.filter((t) => t.kind.includes('bin')).map((t) => t.name));
  return { rootPackage: root?.name, rustVersion, bins };
}

/** The toolchain as `rustc -vV` describes it; `release` is the plain version (`1.95.0`). */
export interface RustcInfo {
  release: string;
  host: string;
  /** The whole `-vV` text: commit hash and LLVM version included, so any other build of rustc differs. */
  verbose: string;
}

/** Parse `rustc -vV`; undefined when it is not rustc's output. */
export function parseRustcVersion(text: string): RustcInfo | undefined {
  const field = (k: string) => text.match(new RegExp(`^${k}: (.+)$`, 'm'))?.[1]?.trim();
  const release = field('release');
  if (!release || !/^\d+\.\d+\.\d+/.test(release)) return undefined;
  return { release, host: field('host') ?? 'unknown', verbose: text.trim() };
}

/**
 * The binary `web` runs: the only one; else the one named after the root package (Cargo's
 * default `src/main.rs` binary); else one called `web` or `server`; else none (use a Procfile).
 */
export function pickWebBinary(app: CargoApp): string | undefined {
  if (app.bins.length === 1) return app.bins[0];
  if (app.rootPackage && app.bins.includes(app.rootPackage)) return app.rootPackage;
  return app.bins.find((b) => b === 'web') ?? app.bins.find((b) => b === 'server');
}
