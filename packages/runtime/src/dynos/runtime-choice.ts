/**
 * Which dyno runtime the reference platform constructs: `local` (processes on this machine, or
 * sandboxed: `sandbox`, `auto`) or
 * `docker` (one container per dyno). Both sit behind core's `DynoRuntime`, so a plugin that
 * provides another runtime replaces this choice without touching the dyno manager.
 */
import { join } from 'node:path';
import type { DynoRuntime, SlugRef, SlugStore } from '@slipway/core';
import type { AppDirs } from '../isolation/app-dirs.js';
import type { AppUsers } from '../isolation/app-users.js';
import { stackErrors } from '../stack/errors.js';
import { stackCacheDir } from '../stack/stack-builder.js';
import { DockerDynoRuntime } from './docker-runtime.js';
import { LocalDynoRuntime, type LocalDynoRuntimeOptions } from './local-runtime.js';
import { SwarmDynoRuntime } from './swarm-runtime.js';

/**
 * Names of the runtimes the reference platform knows: `sandbox` is the local runtime with each
 * dyno in a bubblewrap sandbox in the stack root (sandbox/sandbox.ts); `auto` (the default) is
 * `sandbox` where the stack is built and the platform is root, else `local` with a warning.
 */
export type RuntimeName = 'auto' | 'local' | 'sandbox' | 'docker' | 'swarm';

/** The runtimes by name (for help texts and errors). */
export const RUNTIME_NAMES: readonly RuntimeName[] = ['auto', 'local', 'sandbox', 'docker', 'swarm'];

/** The docker runtime's switches a config file may set (see DockerRuntimeOptions). */
export interface DockerSwitches {
  network?: 'app' | 'dyno';
  ociRuntime?: string;
}

/**
 * The docker runtime's switches from `platform.docker`. A value of the wrong shape is a warning
 * and ignored; a wrong network or OCI runtime name is the runtime's coded error at start.
 */
export function dockerSwitches(v: unknown, warnings: string[]): DockerSwitches | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    warnings.push(
      `platform.docker is ${JSON.stringify(v)}, not an object such as { "network": "dyno" }: ignored`,
    );
    return undefined;
  }
  const { network, ociRuntime, ...rest } = v as Record<string, unknown>;
  for (const k of Object.keys(rest))
    warnings.push(`platform.docker.${k} is not a setting (they are network and ociRuntime): ignored`);
  return {
    ...(network !== undefined ? { network: network as DockerSwitches['network'] } : {}),
    ...(ociRuntime !== undefined ? { ociRuntime: String(ociRuntime) } : {}),
  };
}

/** Options of `createDynoRuntime`. */
export interface RuntimeChoice {
  name: RuntimeName;
  dataDir: string;
  slugStore: SlugStore;
  /** Local runtime: who dynos run as when the platform is root (see LocalDynoRuntimeOptions). */
  runAsUser?: LocalDynoRuntimeOptions['runAsUser'];
  /** The per-app uid table shared with builds. */
  users?: AppUsers;
  /** Local runtime: the per-app dirs shared with builds. */
  dirs?: AppDirs;
  /** The time source of the runtime's timers (the kernel's `Clock`). */
  clock?: LocalDynoRuntimeOptions['clock'];
  /**
   * The stack dynos run in (default `slipway-13`): the docker runtime's image
   * `slipway/stack:<stack>`, the sandbox's root `<stack cache>/<stack>/run`.
   */
  stack?: string;
  /** Docker runtime: its network and OCI runtime switches. */
  docker?: DockerSwitches;
  /** Swarm runtime: the SIGTERM → SIGKILL grace its services are made with (the manager's). */
  stopGraceMs?: number;
}

/** A runtime ready to start dynos (its `init` has run), with `close` and `removeSlug`. */
export type PlatformRuntime = DynoRuntime & {
  close(): Promise<void>;
  removeSlug(ref: SlugRef): Promise<void>;
};

/** Construct and initialise the named runtime; a coded error for an unknown name or a missing engine. */
export async function createDynoRuntime(o: RuntimeChoice): Promise<PlatformRuntime> {
  if (o.name === 'docker')
    return DockerDynoRuntime.create({
      dataDir: o.dataDir,
      slugStore: o.slugStore,
      ...(o.users ? { users: o.users } : {}),
      ...(o.stack ? { stack: o.stack } : {}),
      ...(o.clock ? { clock: o.clock } : {}),
      ...(o.docker?.network !== undefined ? { network: o.docker.network } : {}),
      ...(o.docker?.ociRuntime !== undefined ? { ociRuntime: o.docker.ociRuntime } : {}),
    });
  if (o.name === 'swarm')
    return SwarmDynoRuntime.create({
      dataDir: o.dataDir,
      slugStore: o.slugStore,
      ...(o.users ? { users: o.users } : {}),
      ...(o.stack ? { stack: o.stack } : {}),
      ...(o.stopGraceMs !== undefined ? { stopGraceMs: o.stopGraceMs } : {}),
      ...(o.clock ? { clock: o.clock } : {}),
    });
  if (o.name !== 'local' && o.name !== 'sandbox' && o.name !== 'auto')
    throw stackErrors.SLIPWAY_ERR_STACK_RUNTIME({ name: String(o.name) });
  const rt = new LocalDynoRuntime({
    dataDir: o.dataDir,
    slugStore: o.slugStore,
    ...(o.runAsUser !== undefined ? { runAsUser: o.runAsUser } : {}),
    ...(o.users ? { users: o.users } : {}),
    ...(o.dirs ? { dirs: o.dirs } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.name === 'local'
      ? {}
      : {
          sandbox: {
            ...(o.stack ? { stackRoot: join(stackCacheDir(), o.stack, 'run') } : {}),
            auto: o.name === 'auto',
          },
        }),
  });
  await rt.init();
  return rt;
}
