// Over 400 lines: the one composition of the platform, in the order it starts and stops.
/**
 * The reference platform in one process tree: one kernel composes the plugins (the config
 * file's, the defaults, the objects passed in, and the first-party services of
 * platform-services.ts: state, slug store, log hub, dyno runtime), `kernel.start()` builds the
 * services and starts the plugins, and the platform resolves what it runs (any plugin may
 * replace any of them); then the dyno manager, router and API. Options and result are in
 * platform-types.ts. `startPlatform` opens the data dir, creates the admin token on first
 * start, restores every app's live release (so a SIGKILL and restart brings the formation
 * back), then listens.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { clockRef, dynoRuntimeRef, loadConfig, slugStoreRef } from '@slipway/core';
import type { RouteListing, Router, RouteTable } from '@slipway/router';
import { AccessGate } from './accounts/access-gate.js';
import { defaultDashboardDir } from './accounts/dashboard-static.js';
import { ensureOwner, ownerSeed } from './accounts/owner.js';
import { AddonService } from './addon-service.js';
import { ProviderRegistry } from './addons/provider-registry.js';
import { configBaseDir, mergeProviders, providersOf, useRemoteProviders } from './addons/remote-providers.js';
import { apiRoutes, createApiServer } from './api/server.js';
import { httpsOptionsOf, startHttps } from './certs/https-wiring.js';
import { DeployService } from './deploy-service.js';
import { DynoManager } from './dynos/dyno-manager.js';
import { dockerSwitches, type RuntimeName } from './dynos/runtime-choice.js';
import { runtimeErrors } from './errors.js';
import { FEATURE_PLUGINS } from './features.js';
import { AppDirs, secureDataDir } from './isolation/app-dirs.js';
import { AppUsers } from './isolation/app-users.js';
import { installMaintenance } from './maintenance/router-wiring.js';
import {
  logHubRef,
  PLATFORM_SERVICE_PLUGINS,
  PlatformChanges,
  platformContextRef,
  platformStateRef,
} from './platform-services.js';
import type { Platform, PlatformOptions } from './platform-types.js';
import { composeKernel, DEFAULT_ADDONS, DEFAULT_BUILDPACKS, type KernelRecipe } from './plugins.js';
import { ReleaseService } from './release-service.js';
import { createPlatformRouter, type RouterName } from './router-choice.js';
import { openStackBuilds, type StackBuilds } from './sandbox/build-sandbox.js';
import { AppStacks } from './stack/app-stacks.js';
import { DEFAULT_STACK } from './stack/stack-packages.js';
import { type DataDirLock, lockDataDir } from './state/data-dir-lock.js';
import { SlugCollector } from './state/slug-collector.js';
import type { SqliteStateStore } from './state/sqlite-state-store.js';

export type { Platform, PlatformOptions } from './platform-types.js';

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Admin token: created on first start, kept in `<dataDir>/credentials.json` (mode 0600). */
async function adminToken(state: SqliteStateStore, file: string): Promise<string> {
  try {
    const c = JSON.parse(await readFile(file, 'utf8')) as { token?: string };
    if (c.token && state.verifyToken(c.token)) return c.token;
  } catch {
    // first start, or the file was removed: make a new token
  }
  return state.createToken('admin (created by slipway start)').token;
}

/** Start the platform. */
export async function startPlatform(opts: PlatformOptions): Promise<Platform> {
  // Absolute: dynos, build workers and credentials must not depend on the current directory.
  const dataDir = resolve(opts.dataDir);
  const dataDirError = (e: unknown) =>
    runtimeErrors.SLIPWAY_ERR_RUNTIME_DATA_DIR({ dir: dataDir, detail: (e as Error).message }, { cause: e });
  // Private from its creation (secureDataDir sets the final modes once the lock is ours).
  await mkdir(dataDir, { recursive: true, mode: 0o700 }).catch((e) => {
    throw dataDirError(e);
  });
  // Before anything else: a second platform on this dir must refuse, touching nothing.
  const lock = await lockDataDir(dataDir);
  try {
    return await startLocked(opts, dataDir, lock);
  } catch (e) {
    await lock.release();
    throw e;
  }
}

async function startLocked(opts: PlatformOptions, dataDir: string, lock: DataDirLock): Promise<Platform> {
  const host = opts.host ?? '127.0.0.1';
  const baseDomain = opts.baseDomain ?? 'localhost';
  try {
    // The platform's alone; app uids reach only their own dirs in the runtime dir.
    await secureDataDir(dataDir);
  } catch (e) {
    throw runtimeErrors.SLIPWAY_ERR_RUNTIME_DATA_DIR(
      { dir: dataDir, detail: (e as Error).message },
      { cause: e },
    );
  }
  await rm(join(dataDir, 'tmp'), { recursive: true, force: true });
  // The owner's first password is hashed while the plugins load (used on first start only).
  const seed = existsSync(join(dataDir, 'state.db')) ? undefined : ownerSeed();

  const buildpacks = opts.buildpacks ?? DEFAULT_BUILDPACKS;
  // Read once, here, for its `platform` section (runtime name, stack, add-on providers).
  const loaded = opts.configFile ? await loadConfig(opts.configFile) : undefined;
  const section = loaded?.platform;
  const runAs = opts.runAsUser ?? {};
  const users = await AppUsers.open(dataDir, {
    ...(typeof runAs === 'object' && runAs.uidBase !== undefined ? { uidBase: runAs.uidBase } : {}),
    enforce: typeof runAs === 'object',
  });
  const dirs = await AppDirs.open(dataDir, opts.runtimeDir);
  const warnings: string[] = [];
  if (!users.enforced)
    warnings.push(
      process.getuid?.() === 0
        ? `apps are not isolated from each other: runAsUser is ${JSON.stringify(runAs)}, so builds run as root and dynos share one user. Leave runAsUser unset for one uid per app.`
        : `apps are not isolated from each other: the platform runs as uid ${process.getuid?.()}, not root, so every build and dyno runs as that user and can read the others' files, environment and the platform's data. Run \`slipway start\` as root (each app then gets its own uid) or use a sandboxed dyno runtime.`,
    );
  const stack = opts.stack ?? (section?.stack as string | undefined);
  // Builds in the stack's build root where it can be, else on the host with a warning.
  const builds: Partial<StackBuilds> =
    (opts.builds ?? section?.builds) === 'host'
      ? {}
      : await openStackBuilds(stack ?? DEFAULT_STACK, join(dirs.root, 'build-roots'));
  if (builds.warning) warnings.push(builds.warning);
  const docker = dockerSwitches(opts.docker ?? section?.docker, warnings);
  const prestart = opts.prestartBuilds ?? section?.prestartBuilds;
  if (prestart !== undefined && !(Number.isInteger(prestart) && (prestart as number) >= 0))
    warnings.push(`platform.prestartBuilds is ${JSON.stringify(prestart)}, not a whole number ≥ 0: using 4`);
  // One recipe for the platform and its build workers: a config file's plugins add to the
  // defaults (see plugins.ts); the workers replay the same registrations and start nothing.
  const recipe: KernelRecipe = {
    ...(opts.configFile ? { configFile: opts.configFile } : {}),
    defaults: [...buildpacks, ...(opts.addons ?? DEFAULT_ADDONS)],
    dataDir,
  };
  // Then the plugin objects passed in, and the platform's own services as defaults that any
  // plugin above may replace: one composition, by core's createKernel.
  const { kernel, skipped, config } = await composeKernel(
    recipe,
    loaded,
    [...(opts.plugins ?? []), ...PLATFORM_SERVICE_PLUGINS],
    FEATURE_PLUGINS,
  );
  // A feature that fails to follow a change is told on the platform's stderr; the API answers.
  const changes = new PlatformChanges((e) =>
    console.error(`slipway: a feature failed to follow a state change: ${(e as Error).message}`),
  );
  const self = {
    ports: [] as number[],
    hosts: [host, baseDomain],
    allowLoopback: opts.allowLoopbackDrains === true,
  };
  // A start that fails part-way (a missing service, a port in use, a plugin whose start throws)
  // closes the kernel: the add-on servers and the dyno runtime stop, so the error is reported
  // and the process can exit.
  try {
    const remoteSkipped = await useRemoteProviders(
      kernel,
      mergeProviders(providersOf(config), opts.addonProviders),
      opts.configFile ? configBaseDir(opts.configFile) : process.cwd(),
    );
    skipped.push(...remoteSkipped);
    kernel.provide(platformContextRef, {
      dataDir,
      users,
      dirs,
      runAsUser: runAs,
      runtime: opts.runtime ?? (section?.runtime as RuntimeName | undefined) ?? 'auto',
      ...(stack ? { stack } : {}),
      ...(opts.stopGraceMs !== undefined ? { stopGraceMs: opts.stopGraceMs } : {}),
      ...(docker ? { docker } : {}),
      warnings,
      self,
      baseDomain,
      changes,
    });
    // Services in dependency order (the runtime before the add-on servers, which listen where
    // its dynos reach the host), then every plugin's start.
    await kernel.start();
    const state = kernel.resolve(platformStateRef);
    const slugs = kernel.resolve(slugStoreRef);
    const logs = kernel.resolve(logHubRef);
    const runtime = kernel.resolve(dynoRuntimeRef);
    const interrupted = state.failInterrupted();
    const maintenance = await installMaintenance(kernel);
    // Every platform timer runs on the kernel's Clock (a plugin may provide a fake one).
    const clock = kernel.resolve(clockRef);
    const dynos = new DynoManager({
      kernel,
      runtime,
      log: logs,
      clock,
      ...(opts.bootTimeoutMs !== undefined ? { bootTimeoutMs: opts.bootTimeoutMs } : {}),
      ...(opts.stopGraceMs !== undefined ? { stopGraceMs: opts.stopGraceMs } : {}),
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
    });
    const releases = new ReleaseService({ state, dynos, kernel, log: logs });
    const stacks = new AppStacks(state.db, stack ?? DEFAULT_STACK);
    const deploys = new DeployService({
      state,
      slugs,
      releases,
      dataDir,
      users,
      dirs,
      recipe,
      kernel,
      clock,
      ...(opts.buildTimeoutMs ? { buildTimeoutMs: opts.buildTimeoutMs } : {}),
      ...(stack ? { stack } : {}),
      ...(builds.sandbox ? { buildSandbox: builds.sandbox } : {}),
      ...(runtime.runtimeInSlug ? { runtimeInSlug: true } : {}),
      stacks,
      ...(Number.isInteger(prestart) && (prestart as number) >= 0
        ? { prestartBuilds: prestart ? { max: prestart as number } : false }
        : {}),
    });
    const addons = new AddonService({
      state,
      kernel,
      releases,
      ...(opts.addonTimeoutMs ? { providerTimeoutMs: opts.addonTimeoutMs } : {}),
    });
    // Providers registered through the API (addons:providers:add) come back after a restart.
    const providers = new ProviderRegistry({ kernel, state });
    skipped.push(...(await providers.restore()));
    const credentialsFile = join(dataDir, 'credentials.json');
    const access = new AccessGate({
      state,
      dashboardDir: opts.dashboardDir ?? defaultDashboardDir(),
      ...(opts.loginLimits?.maxFailures ? { loginMaxFailures: opts.loginLimits.maxFailures } : {}),
      ...(opts.loginLimits?.maxPerAddress ? { loginMaxPerAddress: opts.loginLimits.maxPerAddress } : {}),
      ...(opts.loginLimits?.windowMs ? { loginWindowMs: opts.loginLimits.windowMs } : {}),
    });
    const owner = await ensureOwner(access, credentialsFile, opts.ownerEmail, seed);

    const httpsOptions = httpsOptionsOf(config?.platform, {
      ...opts.https,
      ...(opts.httpsPort !== undefined ? { port: opts.httpsPort } : {}),
    });
    const tls = await startHttps({
      kernel,
      state,
      event: (app, message) => releases.event(app, message),
      options: httpsOptions,
      baseDir: opts.configFile ? configBaseDir(opts.configFile) : process.cwd(),
    });
    // Custom domains and app existence come from the state; the dyno manager knows the dynos.
    let domainMap = new Map<string, string>();
    let routerSync = (): void => undefined;
    let appNames = new Set<string>();
    let routedSignature = '';
    const refresh = () => {
      const apps = state.listApps();
      const byId = new Map(apps.map((a) => [a.id, a.name]));
      appNames = new Set(byId.values());
      domainMap = new Map(state.domains().map((d) => [d.hostname, byId.get(d.appId) as string]));
      // Apps and their hosts are what route rules are made for: announce only a change of them
      // (a config var or a scale keeps the routers' rules). Maintenance flags and HTTPS
      // policies are announced where they change (the maintenance state, CertService).
      const signature = [...appNames, ...[...domainMap].map(([h, a]) => `${h}=${a}`)].sort().join(' ');
      if (signature !== routedSignature) {
        routedSignature = signature;
        kernel.hooks.routeRulesChanged.call();
      }
      changes.emit(apps);
      tls.refresh();
      routerSync();
    };
    refresh();
    const dynoTable = dynos.routeTable((h) => domainMap.get(h));
    const table: RouteTable & RouteListing = {
      appForHost: (h) => domainMap.get(h),
      route: (app) =>
        dynoTable.route(app) ?? (appNames.has(app) ? { app, state: 'no-release', targets: [] } : undefined),
      apps: () => appNames,
      domains: () => domainMap.entries(),
      onChange: (fn) => dynoTable.onChange?.(fn),
    };

    const chosen = await createPlatformRouter({
      name: opts.router ?? (section?.router as RouterName | undefined) ?? 'node',
      kernel,
      table,
      baseDomain,
      log: logs,
      certificates: tls.store,
      maintenance,
      dir: join(dataDir, 'router'),
    });
    if (chosen.warning) warnings.push(chosen.warning);
    routerSync = chosen.sync;
    const router: Router = chosen.router;
    const routerAddr = await router.listen(opts.routerPort ?? 5000, host);
    const routerPort = routerAddr.port;
    const httpsPort = httpsOptions.port ?? (opts.routerPort === 0 ? 0 : 5443);
    if (httpsPort !== false) tls.port = (await router.listenTls(httpsPort, host)).port;
    tls.acme.start();
    const appUrl = (app: string) => `http://${app}.${baseDomain}:${routerPort}`;

    const api = createApiServer({
      state,
      logs,
      dynos,
      releases,
      deploys,
      addons,
      stacks,
      slugs: new SlugCollector({ state, store: slugs, runtime }),
      dataDir,
      webUrl: appUrl,
      onChange: refresh,
      certs: { certs: tls.certs, acme: tls.acme },
      workflow: { baseDomain, self },
      addonCatalog: kernel.catalog.addons,
      providers,
      access,
      routeGroups: [...kernel.catalog.apiRoutes.values()],
      kernel,
      ...(opts.maxUploadBytes ? { maxUploadBytes: opts.maxUploadBytes } : {}),
    });
    const apiAddr = await listen(api, opts.apiPort ?? 5001, host);
    const apiUrl = `http://${host}:${apiAddr.port}`;
    self.ports.push(routerPort, apiAddr.port, ...(tls.port ? [tls.port] : []));
    const token = await adminToken(state, credentialsFile);
    const creds = {
      api_url: apiUrl,
      token,
      email: owner.email,
      ...(owner.password ? { password: owner.password } : {}),
    };
    await writeFile(credentialsFile, `${JSON.stringify(creds, null, 2)}\n`, {
      mode: 0o600,
    });
    await chmod(credentialsFile, 0o600);

    // Bring back every live release (after a restart or a SIGKILL), without blocking the start.
    for (const a of state.listApps()) {
      if (interrupted.releases)
        releases.event(a.name, 'Platform restarted; pending releases were marked failed');
      releases.restore(a).catch((e) => releases.event(a.name, `Restore failed: ${(e as Error).message}`));
    }

    let stopped = false;
    const platform: Platform = {
      apiUrl,
      routerUrl: `http://${host}:${routerPort}`,
      routerDataPlane: chosen.dataPlane,
      routerPort,
      routerHttpsUrl: tls.port === undefined ? undefined : `https://${host}:${tls.port}`,
      routerHttpsPort: tls.port,
      credentialsFile,
      token,
      owner,
      access,
      apiRoutes: apiRoutes(api),
      kernel,
      state,
      logs,
      dynos,
      skippedPlugins: skipped,
      addonProviders: () => providers.list(),
      warnings,
      appUrl,
      async demo(onLine, examplesDir) {
        const { runDemo } = await import('./demo.js');
        return runDemo(
          platform,
          { releases, deploys, state, addons, onChange: refresh },
          onLine,
          examplesDir,
        );
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await new Promise<void>((r) => {
          api.close(() => r());
          api.closeAllConnections();
        });
        await router.close(1000);
        tls.close();
        await deploys.close();
        await dynos.close();
        await providers.close();
        // Plugins stop (add-on providers' backing servers; their data stays), then the services
        // close in reverse: the dyno runtime, the slug store, the state.
        await kernel.close().catch(() => {});
        await lock.release();
      },
    };
    return platform;
  } catch (e) {
    await kernel.close().catch(() => {});
    throw e;
  }
}
