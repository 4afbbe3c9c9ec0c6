/**
 * Language runtimes of the host that slugs built on the host point at, bound read-only at the
 * same paths in a sandboxed dyno. The buildpacks build with the host's toolchains and record
 * their paths: the Python buildpack's launchers exec `/usr/bin/python3.X` (whose standard
 * library is `/usr/lib/python3.X`), the Java buildpack's `.profile.d` sets `JAVA_HOME` to a JDK
 * under `/usr/lib/jvm` (whose `conf` links into `/etc/java-N-openjdk`), and `npm start` needs
 * the host's npm. The stack carries none of them (a different Python, no JDK): until the
 * buildpacks install their runtime into the slug (issue: "stack", item 1), the sandbox lends the
 * ones the slug was built with. Go binaries are static and need nothing.
 *
 * The stack root is read-only, so the paths are made to exist in it by a stub layer: an overlay
 * whose upper dir holds an empty file or dir for each bound path (and a copy of each symlink).
 */
import { lstat, mkdir, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Paths (a final `*` matches names with that prefix) looked for on the host. */
export const HOST_TOOLCHAIN_PATTERNS: readonly string[] = [
  // Node.js and npm, as the Node.js buildpack found them (it checks engines.node against this node).
  '/usr/bin/node',
  '/usr/local/bin/node',
  '/usr/lib/node_modules/npm',
  '/usr/local/lib/node_modules/npm',
  '/usr/bin/npm',
  '/usr/bin/npx',
  '/usr/local/bin/npm',
  '/usr/local/bin/npx',
  // Python interpreters and their standard libraries (the buildpack's launchers name the binary).
  '/usr/bin/python3.*',
  '/usr/lib/python3.*',
  '/usr/local/bin/python3.*',
  '/usr/local/lib/python3.*',
  // JDKs and the configuration Debian's JDK packages link to.
  '/usr/lib/jvm',
  '/etc/java-*',
];

/** One host path to lend: bound when a file or dir, recreated when a symlink. */
export interface ToolchainPath {
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  /** The link's target (symlinks). */
  target?: string;
}

/** The host paths of `patterns` that exist now. */
export async function hostToolchains(
  patterns: readonly string[] = HOST_TOOLCHAIN_PATTERNS,
): Promise<ToolchainPath[]> {
  const out: ToolchainPath[] = [];
  for (const pattern of patterns) {
    let paths = [pattern];
    if (pattern.endsWith('*')) {
      const dir = dirname(pattern);
      const prefix = pattern.slice(dir.length + 1, -1);
      // `python3.*` means versioned names only (python3.11), not python3.11-config or the like.
      const versioned = (n: string) =>
        n.startsWith(prefix) && /^[0-9][0-9.]*(-openjdk[-a-z0-9]*)?$/.test(n.slice(prefix.length));
      paths = (await readdir(dir).catch(() => [] as string[])).filter(versioned).map((n) => join(dir, n));
    }
    for (const path of paths) {
      const st = await lstat(path).catch(() => undefined);
      if (!st) continue;
      if (st.isSymbolicLink()) out.push({ path, kind: 'symlink', target: await readlink(path) });
      else if (st.isDirectory()) out.push({ path, kind: 'dir' });
      else if (st.isFile()) out.push({ path, kind: 'file' });
    }
  }
  return out;
}

/** Write the stub layer: what each path needs to exist as a mount point (or link) in the stack. */
export async function writeStubs(upper: string, paths: readonly ToolchainPath[]): Promise<void> {
  for (const p of paths) {
    const at = join(upper, p.path);
    await mkdir(dirname(at), { recursive: true, mode: 0o755 });
    if (p.kind === 'dir') await mkdir(at, { recursive: true, mode: 0o755 });
    else if (p.kind === 'file') await writeFile(at, '', { mode: 0o755 });
    else await symlink(p.target as string, at).catch(() => {});
  }
}
