/**
 * Swarm tasks as the Swarm runtime reads them from the engine: which states mean a task has
 * ended, a service's newest task, and a task's address on its app's overlay.
 */

import type { DynoHandle } from '@slipway/core';

/** The handle of a dyno that starts now, as `ps` and the router see it. */
export function dynoHandle(
  id: string,
  spec: Pick<DynoHandle, 'app' | 'release' | 'type' | 'index'>,
  where: Pick<DynoHandle, 'host' | 'port' | 'node'>,
): DynoHandle {
  const { app, release, type, index } = spec;
  return { id, app, release, type, index, ...where, startedAt: Date.now() };
}

/** The fields of a task the runtime reads. */
export type Task = {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  CreatedAt?: string;
  Status?: { State?: string; Err?: string; ContainerStatus?: { ExitCode?: number } };
  NetworksAttachments?: { Network?: { Spec?: { Name?: string } }; Addresses?: string[] }[];
};

/** States of a task that has ended (it will not run again). */
export const ENDED = new Set(['complete', 'shutdown', 'failed', 'rejected', 'orphaned', 'remove']);

/** The newest task of a service. */
export function latest(tasks: Task[]): Task | undefined {
  return [...tasks].sort((a, b) => String(b.CreatedAt).localeCompare(String(a.CreatedAt)))[0];
}

/** A task's address on the overlay `network` (its app's). */
export function overlayAddress(t: Task, network: string): string | undefined {
  for (const a of t.NetworksAttachments ?? [])
    if (a.Network?.Spec?.Name === network) return a.Addresses?.[0]?.replace(/\/\d+$/, '');
  return undefined;
}
