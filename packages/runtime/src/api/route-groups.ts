/**
 * API route groups that plugins bring (core's `reg.apiRoutes`): what a group's `routes` receives
 * from the platform API, and how `createApiServer` mounts each group, under its prefix, as one
 * encapsulated Fastify plugin (http-app.ts) and one OpenAPI tag. A plugin left out by the config
 * file mounts nothing: its paths answer the API's coded 404.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApiRouteGroupEntry, Kernel } from '@slipway/core';
import type { SelfAddress } from '../drains/drain-url.js';
import type { AppRecord } from '../state/records.js';
import type { RouteEntry } from './http-app.js';
import type { RouteHandler, RouteRegistrar, RouteSpec } from './http-util.js';
import type { ApiContext } from './server.js';

/** What the platform tells the feature routes about itself (`ApiContext.workflow`). */
export interface WorkflowOptions {
  /** Apps answer at `<app>.<baseDomain>`: it and its subdomains cannot be custom domains. */
  baseDomain?: string;
  /** The platform's own listeners, refused as drain targets; ports are filled in once bound. */
  self?: SelfAddress;
  /** Hang up an attached one-off dyno idle this long; default 1 h (Heroku's). */
  runIdleTimeoutMs?: number;
  /** An attached dyno whose client does not connect within this is hung up; default 60 s. */
  attachTimeoutMs?: number;
}

/** Take a WebSocket upgrade (true) or leave it to the next group (false). */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/** What a plugin's route group gets from the platform API. */
export interface RouteGroupApi {
  /** Add a route; `path` is relative to the group's prefix (`''` is the prefix itself). */
  on: RouteRegistrar;
  /** What the API drives (state, releases, dynos, logs…). */
  ctx: ApiContext;
  /** The platform's kernel (services, hooks); undefined for an API built without one (tests). */
  kernel?: Kernel;
  /** Answer WebSocket upgrades on the API port (one-off dynos' attach). */
  upgrade(fn: UpgradeHandler): void;
  /** Clean up the group's part of an app being destroyed, before its record goes. */
  onAppDestroyed(fn: (app: AppRecord) => Promise<void>): void;
}

/** A route group, typed for the runtime's API (pass to `reg.apiRoutes`). */
export interface RouteGroup {
  /** Unique name: the OpenAPI tag. */
  name: string;
  /** Where the routes live: `/apps/:app/log-drains`. `''` for a group spanning paths. */
  prefix: string;
  routes(api: RouteGroupApi): void;
}

/** Type a route group for `reg.apiRoutes` (core keeps what `routes` receives opaque). */
export function routeGroup(group: RouteGroup): Omit<ApiRouteGroupEntry, 'plugin'> {
  return group as Omit<ApiRouteGroupEntry, 'plugin'>;
}

/** What the mounted groups add to the API server. */
export interface MountedGroups {
  upgrades: UpgradeHandler[];
  destroyed: ((app: AppRecord) => Promise<void>)[];
}

/** Declare every group's routes into `routes` (the server's list), each with its prefix. */
export function mountRouteGroups(
  groups: Iterable<ApiRouteGroupEntry>,
  routes: RouteEntry[],
  ctx: ApiContext,
  kernel: Kernel | undefined,
): MountedGroups {
  const mounted: MountedGroups = { upgrades: [], destroyed: [] };
  for (const g of groups) {
    const on = (method: string, path: string, h: RouteHandler, spec?: RouteSpec) =>
      routes.push({
        method,
        path: `${g.prefix}${path}`,
        h,
        group: g.name,
        prefix: g.prefix,
        ...(spec ? { spec } : {}),
      });
    (g as unknown as RouteGroup).routes({
      on,
      ctx,
      ...(kernel ? { kernel } : {}),
      upgrade: (fn) => mounted.upgrades.push(fn),
      onAppDestroyed: (fn) => mounted.destroyed.push(fn),
    });
  }
  return mounted;
}
