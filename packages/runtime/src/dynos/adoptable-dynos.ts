/**
 * What the Docker and Swarm runtimes share about dynos an earlier platform process left
 * running: kept by spec key (what `start` of the same dyno claims), listed by `ps` as up, and
 * removed when nobody claims them within the adoption window, timed on the platform's clock.
 */
import type { Clock, DynoHandle, DynoStatus } from '@slipway/core';

/** Running dynos of an earlier platform process (a container or a service), until claimed or removed. */
export class AdoptableDynos<T> {
  private readonly byKey = new Map<string, { item: T; handle: DynoHandle }>();
  private timer: { cancel(): void } | undefined;
  private closed = false;

  /** `remove` takes away one nobody claimed (errors are its own to ignore). */
  constructor(private readonly remove: (item: T) => Promise<unknown>) {}

  /** Keep `item` (the dyno `handle`) for the start whose spec key is `key`. */
  add(key: string, item: T, handle: DynoHandle): void {
    this.byKey.set(key, { item, handle });
  }

  /** Start the window: what is still unclaimed after `windowMs` on `clock` is removed. */
  open(clock: Clock, windowMs: number): void {
    if (this.byKey.size > 0) this.timer = clock.setTimeout(() => void this.dropUnclaimed(), windowMs);
  }

  /** The item kept for `key`, now the caller's (undefined when there is none). */
  claim(key: string): T | undefined {
    const e = this.byKey.get(key);
    this.byKey.delete(key);
    return e?.item;
  }

  /** The apps of the dynos still waiting to be claimed. */
  apps(): Set<string> {
    return new Set([...this.byKey.values()].map((e) => e.handle.app));
  }

  /** `ps` of the runtime: its own dynos, then those waiting to be claimed (up), of `app` or all. */
  statuses(own: Iterable<{ handle: DynoHandle; stopping: boolean }>, app?: string): DynoStatus[] {
    const out: DynoStatus[] = [];
    for (const d of own)
      if (app === undefined || d.handle.app === app)
        out.push({ ...d.handle, state: d.stopping ? 'stopping' : 'up' });
    for (const { handle } of this.byKey.values())
      if (app === undefined || handle.app === app) out.push({ ...handle, state: 'up' });
    return out;
  }

  /** Stop the window's timer (the runtime is closing); nothing is removed any more. */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
  }

  private async dropUnclaimed(): Promise<void> {
    if (this.closed) return;
    const left = [...this.byKey.values()];
    this.byKey.clear();
    await Promise.all(left.map((e) => this.remove(e.item)));
  }
}
