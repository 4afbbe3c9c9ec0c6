/**
 * Sandboxed local dynos: each dyno runs under `bubblewrap` in the stack's root filesystem with
 * its own mount, PID, IPC and UTS namespaces, as its app's uid (the platform drops to it with
 * `setpriv` before `bwrap` runs, so the dyno is unprivileged outside its namespaces too; bwrap
 * then makes an unprivileged user namespace). It sees the stack read-only at `/`, its own
 * writable `/app` (app-layer.ts), a private `/tmp`, a minimal `/dev`, a `/proc` of its own
 * PID namespace, and the host toolchains its slug was built with (host-toolchains.ts); not the
 * host's processes, files, the data dir or other apps.
 *
 * The network namespace is the host's: the router and the add-on servers reach a dyno, and a
 * dyno reaches them, on loopback ports, as with unsandboxed dynos. A private network namespace
 * would need a veth pair and addresses per dyno set up as root (what the Docker runtime's
 * bridge does); left to that runtime.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { AppUser } from '../isolation/app-users.js';
import { mountOverlay, unmount } from './app-layer.js';
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
async function which(name: string): Promise<string | undefined> {
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

/** A working sandbox setup: the tools, the root dyno see as `/`, the toolchains bound in it. */
export class Sandbox {
  private constructor(
    private readonly bwrap: string,
    private readonly setpriv: string | undefined,
    /** The root bound at `/`: the stack, or the overlay of the stack and the toolchain stubs. */
    readonly root: string,
    /** Toolchains bound (none when the stub overlay could not be mounted). */
    readonly toolchains: ToolchainPath[],
    private readonly mounted: string | undefined,
  ) {}

  /**
   * Find bwrap (and setpriv as root), mount the stack with the toolchain stubs, and try a
   * sandbox once. Throws an Error whose message says what is missing.
   */
  static async open(o: SandboxOptions): Promise<Sandbox> {
    const bwrap = await which('bwrap');
    if (!bwrap) throw new Error('bwrap is not installed (Debian: apt-get install bubblewrap)');
    const root = process.getuid?.() === 0;
    const setpriv = root ? await which('setpriv') : undefined;
    if (root && !setpriv) throw new Error('setpriv is not installed (Debian: util-linux)');
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
    let rootDir = o.stackRoot;
    let mounted: string | undefined;
    let lent: ToolchainPath[] = [];
    if (root && toolchains.length > 0) {
      const layer = join(o.workDir, 'stack');
      await unmount(join(layer, 'app'));
      await rm(layer, { recursive: true, force: true });
      await mkdir(join(layer, 'upper'), { recursive: true, mode: 0o755 });
      await writeStubs(join(layer, 'upper'), toolchains);
      const merged = await mountOverlay(o.stackRoot, layer, undefined);
      if (merged) {
        rootDir = merged;
        mounted = merged;
        lent = toolchains;
      }
    }
    const sandbox = new Sandbox(bwrap, setpriv, rootDir, lent, mounted);
    // One real sandbox as an unprivileged user: user namespaces allowed, the root usable.
    const probe = sandbox.wrap({ uid: 65534, gid: 65534 }, undefined, 'probe');
    try {
      await execFileP(probe[0] as string, [...probe.slice(1), '/bin/true'], { timeout: 20_000 });
    } catch (e) {
      await sandbox.close();
      const err = e as { stderr?: string; message: string };
      throw new Error(`bwrap cannot make a sandbox here: ${(err.stderr || err.message).trim()}`);
    }
    return sandbox;
  }

  /**
   * The argv that runs a command (appended after it) in a dyno's sandbox: as `user` (when the
   * platform is root), with `app` bound at /app.
   */
  wrap(user: AppUser | undefined, app: string | undefined, hostname: string): string[] {
    const drop =
      this.setpriv && user
        ? [this.setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--']
        : [];
    const lend = this.toolchains.flatMap((t) => (t.kind === 'symlink' ? [] : ['--ro-bind', t.path, t.path]));
    return [
      ...drop,
      this.bwrap,
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-cgroup-try',
      '--hostname',
      hostname.slice(0, 63),
      '--ro-bind',
      this.root,
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--tmpfs',
      '/tmp',
      // Name resolution as on the host (the network is the host's).
      '--ro-bind-try',
      '/etc/resolv.conf',
      '/etc/resolv.conf',
      '--ro-bind-try',
      '/etc/hosts',
      '/etc/hosts',
      ...lend,
      ...(app ? ['--bind', app, '/app', '--chdir', '/app'] : ['--chdir', '/']),
      '--',
    ];
  }

  /** Unmount the stack layer. */
  async close(): Promise<void> {
    if (this.mounted) await unmount(this.mounted);
  }
}
