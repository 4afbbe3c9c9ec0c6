/**
 * Sandboxed local dynos: each dyno runs under `bubblewrap` in the stack's root filesystem with
 * its own mount, PID, IPC and UTS namespaces, as its app's uid (the platform drops to it with
 * `setpriv` before `bwrap` runs, so the dyno is unprivileged outside its namespaces too; bwrap
 * then makes an unprivileged user namespace). It sees the stack read-only at `/`, its own
 * writable `/app` (app-layer.ts), a private `/tmp`, a minimal `/dev`, a `/proc` of its own
 * PID namespace, and the host toolchains its slug was built with (host-toolchains.ts); not the
 * host's processes, files, the data dir or other apps. As root, the platform first gives the
 * dyno a private mount namespace (`unshare --mount`) and mounts there, as root, the overlays
 * the dyno needs: its `/app` (app-layer.ts) and the stack root under the toolchains' mount
 * points; they vanish with the dyno's last process.
 *
 * The network namespace is the host's: the router and the add-on servers reach a dyno, and a
 * dyno reaches them, on loopback ports, as with unsandboxed dynos. A private network namespace
 * would need a veth pair and addresses per dyno set up as root (what the Docker runtime's
 * bridge does); left to that runtime.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { AppUser } from '../isolation/app-users.js';
import { type AppLayer, overlayOptions } from './app-layer.js';
import { hostToolchains, type ToolchainPath, writeStubs } from './host-toolchains.js';

const execFileP = promisify(execFile);

/** PATH inside a sandboxed dyno (the stack's, as on Heroku's stacks). */
export const SANDBOX_PATH = '/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin';

/** Options of `Sandbox.open`. */
export interface SandboxOptions {
  /** The stack's run root (e.g. /var/cache/slipway/stacks/slipway-13/run). */
  stackRoot: string;
  /** A dir of the platform's where the stack (with the toolchain stubs) is mounted. */
  workDir: string;
  /** Host toolchains to lend; default `hostToolchains()`. */
  toolchains?: ToolchainPath[];
}

/** Where an executable is on the platform's PATH (absolute), or undefined. */
export async function which(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin')
    .split(delimiter)
    .concat(['/usr/bin', '/usr/sbin'])) {
    const p = join(dir, name);
    if (
      await access(p, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return p;
  }
  return undefined;
}

/**
 * Mounts made in the dyno's private mount namespace before it drops to the app's uid: $1/$2 the
 * stack root's overlay options and mount point, $3/$4 the /app overlay's (empty: none).
 */
export const MOUNTS = [
  'set -e',
  'if [ -n "$1" ]; then mkdir -p "$2"; mount -t overlay slipway-stack -o "$1" "$2"; fi',
  'if [ -n "$3" ]; then mount -t overlay slipway-app -o "$3" "$4"; fi',
  'shift 4',
  'exec "$@"',
].join('\n');

/**
 * bwrap's namespaces and base filesystem, shared by dynos and builds: new PID, IPC, UTS (named
 * `hostname`) and cgroup namespaces, `root` read-only at `/`, its own /dev, /proc and /tmp, and
 * the host's name resolution (the network is the host's).
 */
export function namespaces(hostname: string, root: string): string[] {
  return [
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    hostname.slice(0, 63),
    '--ro-bind',
    root,
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--tmpfs',
    '/tmp',
    '--ro-bind-try',
    '/etc/resolv.conf',
    '/etc/resolv.conf',
    '--ro-bind-try',
    '/etc/hosts',
    '/etc/hosts',
  ];
}

/** A working sandbox setup: the tools, the stack root, the toolchains lent, whether overlays work. */
export class Sandbox {
  private constructor(
    private readonly tools: { bwrap: string; setpriv?: string; unshare?: string },
    private readonly stackRoot: string,
    /** The toolchains' mount points, a lower layer over the stack (root only). */
    private readonly stubs: string | undefined,
    /** Toolchains bound (none without the stub layer). */
    readonly toolchains: ToolchainPath[],
  ) {}

  /** True when the platform mounts overlays for dynos (root, and the kernel allowed it). */
  get overlays(): boolean {
    return this.tools.unshare !== undefined;
  }

  /**
   * Find bwrap (and setpriv and unshare as root), write the toolchain stubs, and try a sandbox
   * once. Throws an Error whose message says what is missing.
   */
  static async open(o: SandboxOptions): Promise<Sandbox> {
    const bwrap = await which('bwrap');
    if (!bwrap) throw new Error('bwrap is not installed (Debian: apt-get install bubblewrap)');
    const root = process.getuid?.() === 0;
    const setpriv = root ? await which('setpriv') : undefined;
    const unshare = root ? await which('unshare') : undefined;
    if (root && (!setpriv || !unshare))
      throw new Error('setpriv or unshare is not installed (Debian: util-linux)');
    if (
      !(await access(join(o.stackRoot, 'bin', 'bash')).then(
        () => true,
        () => false,
      ))
    )
      throw new Error(
        `no stack root at ${o.stackRoot} (run \`slipway stack:build\`, or scripts/stack-setup)`,
      );
    const toolchains = o.toolchains ?? (await hostToolchains());
    const stubs = join(o.workDir, 'stack-stubs');
    await rm(stubs, { recursive: true, force: true });
    await mkdir(stubs, { recursive: true, mode: 0o755 });
    await writeStubs(stubs, toolchains);
    // With overlays (root): the full setup. Without, or when the kernel refuses them here: the
    // stack as it is (no toolchains lent) and copies for /app.
    const tries = root
      ? [
          new Sandbox({ bwrap, setpriv, unshare }, o.stackRoot, stubs, toolchains),
          new Sandbox({ bwrap, setpriv }, o.stackRoot, undefined, []),
        ]
      : [new Sandbox({ bwrap }, o.stackRoot, undefined, [])];
    let failure = '';
    for (const sandbox of tries) {
      const probe = await mkdtemp(join(o.workDir, '.probe-'));
      try {
        await chmod(probe, 0o755);
        // One real sandbox as an unprivileged user: user namespaces allowed, the root usable.
        const argv = sandbox.wrap({ uid: 65534, gid: 65534 }, undefined, probe, 'probe');
        await execFileP(argv[0] as string, [...argv.slice(1), '/bin/true'], { timeout: 20_000 });
        return sandbox;
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        failure ||= (err.stderr || err.message).trim();
      } finally {
        await rm(probe, { recursive: true, force: true });
      }
    }
    throw new Error(`bwrap cannot make a sandbox here: ${failure}`);
  }

  /**
   * The argv that runs a command (appended after it) in a dyno's sandbox: as `user` (when the
   * platform is root), with `app` at /app; `dir` is the dyno's own dir (mount points).
   */
  wrap(user: AppUser | undefined, app: AppLayer | undefined, dir: string, hostname: string): string[] {
    const { bwrap, setpriv, unshare } = this.tools;
    const rootDir = this.stubs ? join(dir, 'root') : this.stackRoot;
    const mounts = unshare
      ? [
          unshare,
          '--mount',
          '--propagation',
          'private',
          '--',
          '/bin/sh',
          '-c',
          MOUNTS,
          'dyno-mounts',
          this.stubs ? overlayOptions([this.stubs, this.stackRoot]) : '',
          rootDir,
          app?.overlay ?? '',
          app?.path ?? '',
        ]
      : [];
    const drop =
      setpriv && user ? [setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--'] : [];
    const lend = this.toolchains.flatMap((t) => (t.kind === 'symlink' ? [] : ['--ro-bind', t.path, t.path]));
    return [
      ...mounts,
      ...drop,
      bwrap,
      ...namespaces(hostname, rootDir),
      ...lend,
      ...(app ? ['--bind', app.path, '/app', '--chdir', '/app'] : ['--chdir', '/']),
      '--',
    ];
  }
}
