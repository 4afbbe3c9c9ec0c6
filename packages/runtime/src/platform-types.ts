/**
 * What `startPlatform` takes (PlatformOptions) and what it hands back (Platform): the reference
 * platform's public face, apart from the wiring in platform.ts.
 */
import type { Kernel, Plugin } from '@slipway/core';
import type { AccessGate } from './accounts/access-gate.js';
import type { ProviderView } from './addons/provider-registry.js';
import type { AddonProvidersConfig } from './addons/remote-providers.js';
import type { PlatformHttpsOptions } from './certs/https-wiring.js';
import type { DynoManager } from './dynos/dyno-manager.js';
import type { DockerSwitches, RuntimeName } from './dynos/runtime-choice.js';
import type { LogHub } from './logs/log-hub.js';
import type { RouterName } from './router-choice.js';
import type { SqliteStateStore } from './state/sqlite-state-store.js';

/** Options of `startPlatform`. */
export interface PlatformOptions {
  /** Where state, slugs, dyno dirs, caches and credentials live. */
  dataDir: string;
  /** Router port (0 = any free port). Default 5000. */
  routerPort?: number;
  /**
   * Router HTTPS port (0 = any free port, false = no HTTPS listener). Default 5443, or any free
   * port when `routerPort` is 0. Also `platform.https.port` in the config file.
   */
  httpsPort?: number | false;
  /**
   * The base domain's certificate and the ACME settings of automated certificates, over the
   * config file's `platform.https` and `platform.acme` sections (see certs/https-wiring.ts).
   */
  https?: Omit<PlatformHttpsOptions, 'port'>;
  /** API port (0 = any free port). Default 5001. */
  apiPort?: number;
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Apps answer at `<app>.<baseDomain>`. Default `localhost`. */
  baseDomain?: string;
  /** slipway.config adding plugins to the defaults (or replacing them: `"defaults": false`). */
  configFile?: string;
  /**
   * Default buildpack specifiers (package names or absolute paths), in detection order,
   * instead of the first-party ones. Specifiers, not objects, because build workers load them.
   */
  buildpacks?: string[];
  /** Default add-on provider specifiers instead of the first-party ones. */
  addons?: string[];
  /**
   * Plugin objects composed after the config file's: route taps, add-ons with options, service
   * factories (a `DynoRuntime`, a `StateStore`…) that replace the platform's defaults, lifecycle
   * listeners written in TypeScript. They live in the platform process only; their
   * `beforeBuild` / `afterBuild` taps still fire for every build (the build worker relays those
   * hooks to the platform). An add-on provider gets the platform's `dataDir` unless its options
   * name one.
   */
  plugins?: (Plugin<unknown> | [Plugin<unknown>, Record<string, unknown>?])[];
  /**
   * Remote add-on providers (partner-API manifests, OSB brokers), added to those of the config
   * file's `platform.addons` section; see addons/remote-providers.ts.
   */
  addonProviders?: AddonProvidersConfig;
  /** Limit on one add-on provider call; default 120 s. */
  addonTimeoutMs?: number;
  /** Web dynos must bind $PORT within this; default 60 s. */
  bootTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace; default 30 s. */
  stopGraceMs?: number;
  /** Crash back-off (tests use ms); default Heroku's. */
  backoff?: ConstructorParameters<typeof DynoManager>[0]['backoff'];
  /** Build timeout; default 25 min. */
  buildTimeoutMs?: number;
  /** Largest accepted upload; default 200 MB. */
  maxUploadBytes?: number;
  /**
   * Accept log drains on this machine's loopback (a log collector on the same host, tests).
   * Off by default: on loopback a drain reaches the platform's add-on servers and other apps'
   * dynos. Link-local and metadata addresses are refused whatever this says.
   */
  allowLoopbackDrains?: boolean;
  /**
   * Who builds and dynos run as when the platform is root: one uid per app (default, from
   * `{ uidBase }`, else a block of 1000 in 200000–1199999 chosen per data dir); a user name
   * runs every app's dynos as that user (no isolation between apps); false keeps root.
   * Ignored when not root (see `warnings`).
   */
  runAsUser?: string | false | { uidBase?: number };
  /** Where app uids reach their slugs, dyno homes and build dirs; see isolation/app-dirs.ts. */
  runtimeDir?: string;
  /**
   * Which `DynoRuntime` runs dynos: `local` (processes on this machine), `sandbox` (local
   * processes in bubblewrap namespaces in the stack root; see sandbox/sandbox.ts), `docker` (one
   * container per dyno from the stack image; see dynos/docker-runtime.ts), or `auto`: `sandbox`
   * where the stack is built and the platform is root, else `local` with a warning. Without
   * this, the config file's `platform.runtime`, else `auto`.
   */
  runtime?: RuntimeName;
  /**
   * Router data plane: `node` (the Node router, default), `haproxy` (HAProxy driven live over
   * its stats socket) or `auto` (HAProxy when installed); see router-choice.ts. Without this,
   * the config file's `platform.router`, else `node`.
   */
  router?: RouterName;
  /**
   * The docker runtime's switches: `network` (`app`, default: an app's dynos share one network
   * namespace; `dyno`: one each) and `ociRuntime` (`auto`, default: crun where it runs, else
   * runc; or a runtime name the engine lists). Without this, the config file's
   * `platform.docker`, then `SLIPWAY_DOCKER_NETWORK` / `SLIPWAY_DOCKER_OCI_RUNTIME`.
   */
  docker?: DockerSwitches;
  /**
   * Stack dynos run in (the docker runtime's image `slipway/stack:<stack>`, the sandbox's root in
   * the stack cache); default `slipway-13`, or the config file's `platform.stack`.
   */
  stack?: string;
  /**
   * Where builds run: `auto` (default) in the stack's build root (sandbox/build-sandbox.ts) when
   * the platform is root and the stack is built, else on the host with a warning; `host` always
   * on the host. Without this, the config file's `platform.builds`.
   */
  builds?: 'auto' | 'host';
  /**
   * How many apps may have a build worker started and waiting for their next build (about 85 MB
   * each; build-worker-pool.ts); 0 = none. Default 4, or the config file's `platform.prestartBuilds`.
   */
  prestartBuilds?: number;
  /** Email of the owner created on first start; default `$SLIPWAY_OWNER_EMAIL`, else owner@slipway.local. */
  ownerEmail?: string;
  /** Built dashboard served at /dashboard; default `@slipway/dashboard`'s build, when installed. */
  dashboardDir?: string;
  /** Sign-in throttling (tests lower the window); see AccessGateOptions. */
  loginLimits?: { maxFailures?: number; maxPerAddress?: number; windowMs?: number };
}

/** A running platform. */
export interface Platform {
  readonly apiUrl: string;
  readonly routerUrl: string;
  /** The router's data plane (`platform.router`, `auto` resolved). */
  readonly routerDataPlane: 'node' | 'haproxy';
  readonly routerPort: number;
  /** `https://<host>:<port>` of the router's HTTPS listener, when it has one. */
  readonly routerHttpsUrl: string | undefined;
  /** The HTTPS listener's port, when it has one. */
  readonly routerHttpsPort: number | undefined;
  readonly credentialsFile: string;
  /** The admin API token (acts as the owner). */
  readonly token: string;
  /** The owner's email and, while credentials.json still holds it, the first-start password. */
  readonly owner: { email: string; password?: string };
  /** Users, access and the audit log. */
  readonly access: AccessGate;
  /** Every API route (method and `/apps/:app/...` template). */
  readonly apiRoutes: { method: string; path: string }[];
  readonly kernel: Kernel;
  readonly state: SqliteStateStore;
  readonly logs: LogHub;
  readonly dynos: DynoManager;
  /** Plugins that could not be loaded (reported, skipped). */
  readonly skippedPlugins: string[];
  /** The add-on providers loaded now: plugins, the config's remote ones, those added through the API. */
  addonProviders(): ProviderView[];
  /** What the operator must know at start, e.g. that apps are not isolated from each other. */
  readonly warnings: string[];
  /** `http://<app>.<baseDomain>:<routerPort>` */
  appUrl(app: string): string;
  /** Create and deploy the example apps that exist (or those under `examplesDir`); see demo.ts. */
  demo(
    onLine: (line: string) => void,
    examplesDir?: string,
  ): Promise<{ app: string; url?: string; error?: string }[]>;
  /** Stop listening, stop every dyno, close the database. */
  stop(): Promise<void>;
}
