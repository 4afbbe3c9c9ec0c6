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
