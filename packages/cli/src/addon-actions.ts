/**
 * The CLI side of provider-declared add-on actions: `pg:backups`, `mail` and the like are thin
 * verbs over `/apps/:app/addons/:addon/actions/:action`, the one route every provider's actions
 * share, so the CLI needs no provider-specific API either.
 */
import { type ClientOptions, clientFor, requireApp } from './api-client.js';

/** Options of a verb acting on one add-on: `--addon NAME` picks the attachment. */
export type AddonActionOptions = ClientOptions & { addon?: string };

/** The action's URL path: the `--addon` attachment, else the app's add-on of `service`. */
export function addonActionPath(o: AddonActionOptions, service: string, action: string): string {
  const addon = o.addon ?? service;
  return `/apps/${encodeURIComponent(requireApp(o))}/addons/${encodeURIComponent(addon)}/actions/${action}`;
}

/** Run a read-only action (GET, input as the query string). */
export function readAddonAction<T>(
  o: AddonActionOptions,
  service: string,
  action: string,
  input: Record<string, string> = {},
): Promise<T> {
  const query = new URLSearchParams(input).toString();
  return clientFor(o).json<T>('GET', `${addonActionPath(o, service, action)}${query ? `?${query}` : ''}`);
}

/** Run an action that changes things (POST, input as the JSON body); `progress` shows while it runs. */
export function runAddonAction<T>(
  o: AddonActionOptions,
  service: string,
  action: string,
  input: Record<string, unknown> = {},
  progress?: string,
): Promise<T> {
  return clientFor(o).json<T>('POST', addonActionPath(o, service, action), input, progress);
}
