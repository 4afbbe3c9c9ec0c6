/**
 * The platform's own Node.js and npm as a runtime shared by every app's slug (the platform's
 * builds, and the buildpack SDK's testBuildpack as they run): copied once per
 * machine and version into the shared member store (core's shared-members.ts) and packed there
 * once, by the platform, before any build runs. The store is root's (0755, files 0644/0755) and
 * a sandboxed build sees it read-only, so an app's build can link it but never change it. The
 * Node.js buildpack links it at `.heroku/node` when the build's `node` is this one
 * (`SLIPWAY_PLATFORM_NODE`); a platform Node.js that links more than the C/C++ runtime (Debian's
 * links libnode) is not shared, and the buildpack keeps its own per-app copy.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, realpath, stat, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { packSharedMember, publishSharedMember, type SharedMember, sharedMembers } from './shared-members.js';

const execFileP = promisify(execFile);

/** Where the tree of the shared Node.js sits inside its entry, as the slug names it. */
const NODE_REL = '.heroku/node';

/**
 * The machine's shared member store: `SLIPWAY_RUNTIME_STORE`, else root's `/var/cache/slipway/
 * runtimes` (no other user can create it first), else the user's `~/.cache/slipway/runtimes`.
 */
export function sharedRuntimeStore(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SLIPWAY_RUNTIME_STORE) return env.SLIPWAY_RUNTIME_STORE;
  if (process.getuid?.() === 0) return '/var/cache/slipway/runtimes';
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'slipway', 'runtimes');
}

/** Shared libraries an official Node.js binary links against, present in every glibc root. */
const PORTABLE_LIBS =
  /^(linux-vdso|libdl|libstdc\+\+|libm|libgcc_s|libpthread|libc|librt|libatomic|ld-linux[-\w]*)\.so/;

const made = new Map<string, Promise<SharedMember | undefined>>();

/**
 * The shared member of the platform's Node.js (`process.execPath`) and the npm installed beside
 * it, made now when the store lacks it (once per process it is only looked up); undefined when
 * that Node.js is not portable or the store is not the platform's alone.
 */
export function platformNodeMember(store = sharedRuntimeStore()): Promise<SharedMember | undefined> {
  // Off: each app's build copies and packs its own (what benchmarks compare against).
  if (process.env.SLIPWAY_SHARED_RUNTIMES === 'off') return Promise.resolve(undefined);
  let p = made.get(store);
  if (!p) {
    p = makePlatformNode(store).catch(() => undefined);
    made.set(store, p);
  }
  return p;
}

/** The dir a build links `.heroku/node` to, for the member `m`. */
export const sharedNodeDir = (m: SharedMember): string => join(m.dir, 'tree', NODE_REL);

/** The platform's shared Node.js offered to a build running in this process. */
export interface OfferedPlatformNode {
  /** The store, for runBuild's `sharedMembers` (undefined: none offered). */
  sharedMembers?: string;
  /** Put `SLIPWAY_PLATFORM_NODE` back as it was. */
  restore(): void;
}

/**
 * Offer the platform's shared Node.js to a build run in this process (the CLI's `slipway build`,
 * the buildpack SDK's testBuildpack) as the platform offers it to its build workers: where the
 * Node.js buildpack looks (`SLIPWAY_PLATFORM_NODE`), with the store to give runBuild. `use`
 * false offers none (the buildpack then copies its own into the app's cache).
 */
export async function offerPlatformNode(use = true): Promise<OfferedPlatformNode> {
  const node = use ? await platformNodeMember() : undefined;
  const previous = process.env.SLIPWAY_PLATFORM_NODE;
  if (node) process.env.SLIPWAY_PLATFORM_NODE = sharedNodeDir(node);
  else delete process.env.SLIPWAY_PLATFORM_NODE;
  return {
    ...(node ? { sharedMembers: dirname(node.dir) } : {}),
    restore() {
      if (previous === undefined) delete process.env.SLIPWAY_PLATFORM_NODE;
      else process.env.SLIPWAY_PLATFORM_NODE = previous;
    },
  };
}

async function makePlatformNode(store: string): Promise<SharedMember | undefined> {
  const bin = await realpath(process.execPath);
  const st = await stat(bin);
  const npmDir = await realpath(join(dirname(bin), '..', 'lib', 'node_modules', 'npm')).catch(
    () => undefined,
  );
  const npm = npmDir
    ? (
        (await readFile(join(npmDir, 'package.json'), 'utf8').then(JSON.parse, () => ({}))) as {
          version?: string;
        }
      ).version
    : undefined;
  const key = createHash('sha256')
    .update(`${bin}|${st.size}|${st.mtimeMs}|${npmDir}|${npm}`)
    .digest('hex')
    .slice(0, 12);
  const id = `node-${process.version}-npm-${npm ?? 'none'}-${key}`;
  await mkdir(store, { recursive: true, mode: 0o755 });
  // Only a store no app can write is shared: another user's, or a group- or world-writable one,
  // could hold a runtime made by anybody.
  const s = await stat(store);
  if (s.uid !== (process.getuid?.() ?? s.uid) || (s.mode & 0o022) !== 0) return undefined;
  const known = (await sharedMembers(store)).find((m) => m.dir.endsWith(`/${id}`));
  if (known) return known;
  const { stdout } = await execFileP('ldd', [bin]).catch(() => ({ stdout: '' }));
  const libs = stdout
    .split('\n')
    .map((l) => l.trim().split(/\s/)[0]?.split('/').pop() ?? '')
    .filter(Boolean);
  if (!libs.length || !libs.every((l) => PORTABLE_LIBS.test(l))) return undefined;
  const tmp = await mkdtemp(join(store, '.make-'));
  const home = join(tmp, 'tree', NODE_REL);
  await mkdir(join(home, 'bin'), { recursive: true });
  await copyFile(bin, join(home, 'bin', 'node'));
  await chmod(join(home, 'bin', 'node'), 0o755);
  if (npmDir) {
    await cp(npmDir, join(home, 'lib', 'node_modules', 'npm'), { recursive: true, verbatimSymlinks: true });
    // As Node.js's own archives have them: links to the CLIs, which run on the `node` on PATH
    // (`.profile.d` puts `.heroku/node/bin` first).
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(home, 'bin', 'npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(home, 'bin', 'npx'));
  }
  // Readable by every app's uid, writable by the platform only.
  await execFileP('chmod', ['-R', 'u=rwX,go=rX', tmp]);
  await packSharedMember(tmp, NODE_REL, { node: process.version, ...(npm ? { npm } : {}) });
  await publishSharedMember(tmp, store, id);
  return (await sharedMembers(store)).find((m) => m.dir.endsWith(`/${id}`));
}
