/**
 * Slug garbage collection for destroyed apps. Slugs are content-addressed, so two apps can
 * share one (the same source built the same way); a slug goes only when no build or release of
 * any app uses it any more: its metadata row, its archive in the SlugStore, and the dyno
 * runtime's unpacked copy (through the runtime's `removeSlug`, when it has one).
 */
import type { DynoRuntime, SlugRef, SlugStore } from '@slipway/core';
import type { SqliteStateStore } from './sqlite-state-store.js';

/** What the collector removes slugs from. */
export interface SlugCollectorOptions {
  state: SqliteStateStore;
  store: SlugStore;
  /** The local runtime has `removeSlug` (its unpacked copies); a runtime without one keeps none. */
  runtime: DynoRuntime & { removeSlug?(ref: SlugRef): Promise<void> };
}

/** Removes the slugs nothing uses any more. */
export class SlugCollector {
  constructor(private readonly o: SlugCollectorOptions) {}

  /** The slugs an app uses; read them before the app is deleted, collect them after. */
  slugsOf(appId: string): string[] {
    return this.o.state.appSlugs(appId);
  }

  /**
   * Remove those of `checksums` that no build or release uses; returns the removed ones. Call it
   * once the dynos that ran them are stopped: the unpacked copy is deleted whoever holds it.
   */
  async collect(checksums: string[]): Promise<string[]> {
    const removed: string[] = [];
    for (const checksum of checksums) {
      const meta = this.o.state.slug(checksum);
      if (!meta || !this.o.state.removeSlugIfUnused(checksum)) continue;
      const ref: SlugRef = { checksum, size: meta.size };
      await this.o.store.remove(ref);
      await this.o.runtime.removeSlug?.(ref);
      removed.push(checksum);
    }
    return removed;
  }
}
