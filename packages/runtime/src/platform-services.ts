/**
 * The reference platform's services as first-party plugins: each registers a *default* factory
 * for one of core's service refs, so any other plugin that registers a factory for the same ref
 * replaces it, and the replaced default is never constructed. `startPlatform` composes them
 * first, provides the platform's context (data dir, per-app users and dirs, the runtime name)
 * and then resolves every service from the kernel; it constructs none of them itself.
 */
import { join } from 'node:path';
import {
  clockRef,
  createServiceRef,
  definePlugin,
  dynoRuntimeRef,
  logSinkRef,
  type Plugin,
  type ServiceRef,
  slugStoreRef,
  stateStoreRef,
} from '@slipway/core';
import type { SelfAddress } from './drains/drain-url.js';
import { createDynoRuntime, type RuntimeChoice, type RuntimeName } from './dynos/runtime-choice.js';
import type { AppDirs } from './isolation/app-dirs.js';
import type { AppUsers } from './isolation/app-users.js';
import { LogHub } from './logs/log-hub.js';
import { FsSlugStore } from './state/fs-slug-store.js';
import type { AppRecord } from './state/records.js';
import { SqliteStateStore } from './state/sqlite-state-store.js';
import { migrateTables } from './state/table-migrations.js';

/**
 * The platform's changes (apps, domains, drains, maintenance flags), announced after every API
 * change with the apps as they now are: features that keep a view of the state (drain
 * delivery, maintenance) follow it without a database read per log line or request.
 */
export class PlatformChanges {
  private readonly listeners: ((apps: readonly AppRecord[]) => void)[] = [];
  /** `onError` hears of a subscriber that threw. */
  constructor(private readonly onError: (e: unknown) => void = () => {}) {}
  /** Call `fn` after every change (and once at start), with every app. */
  subscribe(fn: (apps: readonly AppRecord[]) => void): void {
    this.listeners.push(fn);
  }
  /** Tell every subscriber; one that throws is reported and does not stop the others. */
  emit(apps: readonly AppRecord[]): void {
    for (const fn of this.listeners)
      try {
        fn(apps);
      } catch (e) {
        this.onError(e);
      }
  }
}

/** What the platform knows before any service is built; `startPlatform` provides it. */
export interface PlatformContext {
  /** The platform's data dir (absolute). */
  dataDir: string;
  /** The per-app uid table builds and dynos share. */
  users: AppUsers;
  /** The per-app dirs builds and dynos share. */
  dirs: AppDirs;
  /** Who dynos run as when the platform is root (`runAsUser` of the platform options). */
  runAsUser: RuntimeChoice['runAsUser'];
  /** The built-in dyno runtime to construct when no plugin replaces it. */
  runtime: RuntimeName;
  /** The stack dynos run in. */
  stack?: string;
  /** SIGTERM → SIGKILL grace of stopping dynos (the swarm runtime sets it on each service). */
  stopGraceMs?: number;
  /** The docker runtime's switches (`platform.docker` of the config file). */
  docker?: RuntimeChoice['docker'];
  /** What the operator must know; services add to it. */
  warnings: string[];
  /** The platform's own listeners and names (ports fill in as they bind). */
  self: SelfAddress & { ports: number[] };
  /** The platform's base domain: apps answer at `<app>.<baseDomain>`. */
  baseDomain: string;
  /** Announces every change of the state the API made. */
  changes: PlatformChanges;
}

/** The platform's context (data dir, users, dirs); a dependency of the default services. */
export const platformContextRef = createServiceRef<PlatformContext>('PlatformContext');
/**
 * `StateStore`, typed as the reference platform reads it: a replacement implements the SQLite
 * store's public methods (core only fixes `transaction` and `close`).
 */
export const platformStateRef = stateStoreRef as unknown as ServiceRef<SqliteStateStore>;
/** `LogSink`, typed as the platform reads it (tails, recent lines): the log hub. */
export const logHubRef = logSinkRef as unknown as ServiceRef<LogHub>;

/** SQLite state in `<dataDir>/state.db` (mode 0600). */
export const sqliteStatePlugin: Plugin = definePlugin({
  name: 'slipway-state-sqlite',
  register(reg) {
    reg.service({
      ref: platformStateRef,
      deps: [platformContextRef],
      default: true,
      factory: ({ get, kernel }) => {
        // SQLite gives the -wal and -shm files the mode of the database file; the constructor is
        // synchronous, so the umask applies to nothing else.
        const umask = process.umask(0o077);
        try {
          const store = new SqliteStateStore(join(get(platformContextRef).dataDir, 'state.db'));
          // The tables the platform's plugins own (drains…), each family with its own list.
          try {
            for (const m of kernel.catalog.migrations.values()) migrateTables(store.db, m.family, m.steps);
          } catch (e) {
            store.close();
            throw e;
          }
          return store;
        } finally {
          process.umask(umask);
        }
      },
      dispose: (state) => state.close(),
    });
  },
});

/** Slug archives as files in `<dataDir>/slug-store`. */
export const fsSlugsPlugin: Plugin = definePlugin({
  name: 'slipway-slugs-fs',
  register(reg) {
    reg.service({
      ref: slugStoreRef,
      deps: [platformContextRef],
      default: true,
      factory: ({ get }) => new FsSlugStore(join(get(platformContextRef).dataDir, 'slug-store')),
    });
  },
});

/** The log hub: recent lines per app, tails, and the `log` hook. */
export const logHubPlugin: Plugin = definePlugin({
  name: 'slipway-log-hub',
  register(reg) {
    reg.service({
      ref: logHubRef,
      default: true,
      factory: ({ kernel }) => new LogHub({ max: 1500, kernel }),
    });
  },
});

/** The built-in dyno runtime (`local`, `sandbox`, `auto`, `docker` or `swarm`, see runtime-choice.ts). */
export const builtinDynosPlugin: Plugin = definePlugin({
  name: 'slipway-dynos',
  register(reg) {
    reg.service({
      ref: dynoRuntimeRef,
      deps: [platformContextRef, slugStoreRef],
      default: true,
      factory: async ({ get, kernel }) => {
        const c = get(platformContextRef);
        const runtime = await createDynoRuntime({
          clock: kernel.resolve(clockRef),
          name: c.runtime,
          dataDir: c.dataDir,
          slugStore: get(slugStoreRef),
          ...(c.runAsUser !== undefined ? { runAsUser: c.runAsUser } : {}),
          users: c.users,
          dirs: c.dirs,
          ...(c.stack ? { stack: c.stack } : {}),
          ...(c.stopGraceMs !== undefined ? { stopGraceMs: c.stopGraceMs } : {}),
          ...(c.docker ? { docker: c.docker } : {}),
        });
        c.warnings.push(...((runtime as { warnings?: string[] }).warnings ?? []));
        return runtime;
      },
      dispose: (runtime) => runtime.close?.(),
    });
  },
});

/** The first-party service plugins, in the order the platform composes them. */
export const PLATFORM_SERVICE_PLUGINS: readonly Plugin[] = [
  sqliteStatePlugin,
  fsSlugsPlugin,
  logHubPlugin,
  builtinDynosPlugin,
];
