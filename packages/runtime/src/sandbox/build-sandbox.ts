/**
 * Builds in the stack's build root: the build worker (and every buildpack, package manager and
 * compiler it starts) runs under `bubblewrap` with the stack's build variant at `/`, so a slug
 * is built against the same Debian root its dynos run on (the run variant is the build variant
 * without compilers and headers). The worker sees, besides the stack: the platform's own install
 * and config dir read-only (it composes its kernel from them), the host toolchains the
 * buildpacks still take from the host (host-toolchains.ts, as dynos are lent them), and read-
 * write at their host paths only the build's own dirs (source, work dir with ENV_DIR, cache,
 * HOME, fetched buildpacks). Paths are the same inside and out: the slug the worker reports is
 * the file the job named, and nothing is translated.
 *
 * bwrap runs as root, with new mount, PID, IPC and UTS namespaces and no user namespace, so the
 * worker keeps its one privileged step (build-worker.ts `switchUser`: load the plugins, then
 * setuid to the app for good) and the isolation of builds stays what issue 11's tests check. The
 * mount points of those paths are made to exist in the read-only root by a per-build stub layer
 * under the stack (an overlay, as for dynos), gone with the build's mount namespace. Killing the
 * worker's process group kills bwrap, whose PID namespace takes everything started in it along.
 */
import { constants } from 'node:fs';
import { access, chmod, lstat, mkdir, mkdtemp, readdir, realpath, rm, stat } from 'node:fs/promises';
import { dirname, join, parse, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackCacheDir } from '../stack/stack-builder.js';
import { overlayOptions } from './app-layer.js';
import {
  HOST_TOOLCHAIN_PATTERNS,
  hostToolchains,
  type ToolchainPath,
  writeStubs,
} from './host-toolchains.js';
import { MOUNTS, namespaces, which } from './sandbox.js';

/**
 * Host paths builds need beyond what dynos are lent: Debian's pip (dist-packages), Maven and the
 * jars it links to, Go, and the machine's CA certificates (the JDK's store among them). Symlinks are recreated pointing at their real target,
 * since the stack has no `/etc/alternatives` entry for a JDK or Maven it does not carry.
 */
export const BUILD_TOOLCHAIN_PATTERNS: readonly string[] = [
  ...HOST_TOOLCHAIN_PATTERNS,
  // `python3`, the interpreter the Python buildpack takes when the app pins none it has.
  '/usr/bin/python3',
  '/usr/lib/python3',
  '/usr/bin/java',
  '/usr/bin/javac',
  '/usr/bin/jar',
  '/usr/bin/mvn',
  '/usr/share/maven',
  '/usr/share/maven-repo',
  '/usr/share/java',
  '/etc/maven',
  // The machine's CA store, as build-env.ts passes its CA settings: a registry reached through
  // a proxy or mirror with a private CA must verify in builds as it does on the host.
  '/etc/ssl/certs',
  '/usr/share/ca-certificates',
  '/usr/local/share/ca-certificates',
  '/usr/local/go',
];

/** The host toolchains lent to builds, each symlink resolved to where it really leads. */
export async function buildToolchains(): Promise<ToolchainPath[]> {
  const found = await hostToolchains(BUILD_TOOLCHAIN_PATTERNS);
  return Promise.all(
    found.map(async (t) =>
      t.kind === 'symlink' ? { ...t, target: await realpath(t.path).catch(() => t.target) } : t,
    ),
  );
}

/** The outermost directory above `file` that holds a `node_modules`: the platform's install. */
export async function installRoot(file: string): Promise<string> {
  let found = dirname(file);
  for (let d = dirname(file); d !== parse(d).root; d = dirname(d))
    if (
      !d.split('/').includes('node_modules') &&
      (await access(join(d, 'node_modules')).then(
        () => true,
        () => false,
      ))
    )
      found = d;
  return found;
}

/**
 * The dyno mounts, behind a gate: the shell waits for one line on fd 3 (the platform writes it
 * once this process is in the build's pids cgroup) before it mounts and execs bwrap, so bwrap
 * and everything under it start inside the limit. Without the line (the platform died) it ends.
 */
const GATED_MOUNTS = `read -r _ <&3 || exit 1\n${MOUNTS}`;

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** What one build binds into the root besides the stack and the toolchains. */
export interface BuildMounts {
  /** Read-only at the same path (the platform's install, its config dir). */
  readOnly: string[];
  /** Read-write at the same path (source, work dir, cache, HOME, buildpacks dir). */
  readWrite: string[];
  /**
   * A read-write dir bound for the build's dirs inside it (the app's fence): bound as one mount,
   * so hard links work between them (cache layers linked into the build dir, not copied: no
   * link() crosses mount points), with each of its entries that holds none of them hidden.
   */
  through?: string;
}

/**
 * A prepared build sandbox: `argv` runs the command appended to it, once a line is written to
 * its fd 3 (see GATED_MOUNTS); `cleanup` after it ended.
 */
export interface WrappedBuild {
  argv: string[];
  cleanup(): Promise<void>;
}

/** Options of `BuildSandbox.open`. */
export interface BuildSandboxOptions {
  /** The stack's build root (e.g. /var/cache/slipway/stacks/slipway-13/build). */
  buildRoot: string;
  /** A root-owned dir of the platform's where per-build stub layers are made. */
  workDir: string;
  /** Host toolchains to lend; default `buildToolchains()`. */
  toolchains?: ToolchainPath[];
}

const WORKER_INSTALL = installRoot(fileURLToPath(import.meta.url));

/** Builds in the stack's build root (root only: the stub layer is an overlay mounted as root). */
export class BuildSandbox {
  private constructor(
    private readonly tools: { bwrap: string; unshare: string },
    readonly buildRoot: string,
    private readonly workDir: string,
    readonly toolchains: ToolchainPath[],
  ) {}

  /** Find the tools and the root and run one probe; throws an Error saying what is missing. */
  static async open(o: BuildSandboxOptions): Promise<BuildSandbox> {
    if (process.getuid?.() !== 0)
      throw new Error('the platform is not root, and builds enter the stack by mounts only root may make');
    const bwrap = await which('bwrap');
    if (!bwrap) throw new Error('bwrap is not installed (Debian: apt-get install bubblewrap)');
    const unshare = await which('unshare');
    if (!unshare) throw new Error('unshare is not installed (Debian: util-linux)');
    if (
      !(await access(join(o.buildRoot, 'usr', 'bin', 'cc'), constants.X_OK).then(
        () => true,
        () => false,
      ))
    )
      throw new Error(
        `no stack build root at ${o.buildRoot} (run \`slipway stack:build\`, or scripts/stack-setup)`,
      );
    await mkdir(o.workDir, { recursive: true, mode: 0o700 });
    const sandbox = new BuildSandbox(
      { bwrap, unshare },
      o.buildRoot,
      o.workDir,
      o.toolchains ?? (await buildToolchains()),
    );
    const probe = await sandbox.wrap({ readOnly: [], readWrite: [] }, false);
    try {
      const { execFile } = await import('node:child_process');
      await new Promise<void>((resolve, reject) =>
        execFile(
          probe.argv[0] as string,
          [...probe.argv.slice(1), process.execPath, '-e', ''],
          (e, _o, err) =>
            e
              ? reject(new Error(`bwrap cannot make a build sandbox here: ${(err || e.message).trim()}`))
              : resolve(),
        ),
      );
    } finally {
      await probe.cleanup();
    }
    return sandbox;
  }

  /**
   * The argv (bwrap and the mounts before it) that runs a command in a build's sandbox; `gated`
   * (the default) waits for the platform's line on fd 3 first.
   */
  async wrap(m: BuildMounts, gated = true): Promise<WrappedBuild> {
    const base = await mkdtemp(join(this.workDir, 'build-'));
    await chmod(base, 0o755);
    const stubs = join(base, 'stubs');
    const root = join(base, 'root');
    await mkdir(stubs, { mode: 0o755 });
    await mkdir(root, { mode: 0o755 });
    // An install in a system dir (npm's global /usr/lib) is its node_modules: binding /usr/lib
    // itself would put the host's libraries over the stack's.
    const install = await WORKER_INSTALL;
    const inStack = await exists(join(this.buildRoot, install));
    const readOnly = [
      ...new Set([inStack ? join(install, 'node_modules') : install, process.execPath, ...m.readOnly]),
    ];
    const { readWrite, hide } = await throughOne(m);
    const binds: ToolchainPath[] = [];
    for (const path of [...readOnly, ...readWrite]) {
      const st = await stat(path).catch(() => undefined);
      if (st) binds.push({ path, kind: st.isDirectory() ? 'dir' : 'file' });
    }
    await writeStubs(stubs, [...this.toolchains, ...binds]);
    const bind = (flag: string, paths: string[]) =>
      paths.filter((p) => binds.some((b) => b.path === p)).flatMap((p) => [flag, p, p]);
    const lend = this.toolchains.flatMap((t) => (t.kind === 'symlink' ? [] : ['--ro-bind', t.path, t.path]));
    // Dirs above a bind are the host's path to the build's own dirs, not the host's dirs: the
    // app may pass them (0711, as AppDirs' fences let it) but not list them. Those bwrap makes
    // under the private /tmp would otherwise be 0700 root (the app could not reach its dirs);
    // those in the stub layer, 0755. Dirs the stack itself has are left as they are.
    const above = new Set<string>();
    for (const b of binds) for (let d = dirname(b.path); d !== '/' && d !== '.'; d = dirname(d)) above.add(d);
    for (const d of above)
      if (!(await exists(join(this.buildRoot, d)))) await chmod(join(stubs, d), 0o711).catch(() => {});
    const dirs = [...above].sort().flatMap((d) => ['--perms', '0711', '--dir', d]);
    const argv = [
      this.tools.unshare,
      '--mount',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      gated ? GATED_MOUNTS : MOUNTS,
      'build-mounts',
      overlayOptions([stubs, this.buildRoot]),
      root,
      '',
      '',
      this.tools.bwrap,
      '--die-with-parent',
      ...namespaces('build', root),
      ...lend,
      ...dirs,
      ...bind('--ro-bind', readOnly),
      ...bind('--bind', readWrite),
      ...hide.flatMap((p) => ['--tmpfs', p]),
      '--chdir',
      '/',
      '--',
    ];
    return { argv, cleanup: () => rm(base, { recursive: true, force: true }) };
  }
}

const inside = (path: string, dir: string) => resolve(path).startsWith(resolve(dir) + sep);

/**
 * `m`'s read-write dirs with those inside `m.through` bound through it, and the entries of it
 * that hold none of them (another app's-worth of nothing: its dynos' dirs, its unpacked slugs).
 */
async function throughOne(m: BuildMounts): Promise<{ readWrite: string[]; hide: string[] }> {
  const dir = m.through;
  if (!dir || !m.readWrite.some((d) => inside(d, dir))) return { readWrite: m.readWrite, hide: [] };
  const wanted = m.readWrite.filter((d) => inside(d, dir));
  const entries = await readdir(dir).catch(() => [] as string[]);
  const hide: string[] = [];
  for (const p of entries.map((e) => join(dir, e))) {
    if (wanted.some((d) => d === p || inside(d, p))) continue;
    // A tmpfs hides a dir; the fence holds nothing else (AppDirs), and what is not a dir is left out.
    if ((await lstat(p).catch(() => undefined))?.isDirectory()) hide.push(p);
  }
  return { readWrite: [dir, ...m.readWrite.filter((d) => !inside(d, dir) && d !== dir)], hide };
}

/** Where builds run: in stack `stack`'s build root, or on the host with the reason why. */
export type StackBuilds =
  | { sandbox: BuildSandbox; warning?: undefined }
  | { sandbox?: undefined; warning: string };

/**
 * Open builds in stack `stack`'s build root (in the stack cache); where that cannot be, the
 * loud warning that builds run on the host (printed here, and for the platform's start banner).
 */
export async function openStackBuilds(stack: string, workDir: string): Promise<StackBuilds> {
  try {
    return {
      sandbox: await BuildSandbox.open({ buildRoot: join(stackCacheDir(), stack, 'build'), workDir }),
    };
  } catch (e) {
    const warning = `builds run on the HOST, not in the ${stack} stack: ${(e as Error).message}. Slugs are built against the host's libraries and toolchains, and runtimes that need the stack (Python 3.13, JDK 21) are refused.`;
    console.warn(`WARNING: ${warning}`);
    return { warning };
  }
}
