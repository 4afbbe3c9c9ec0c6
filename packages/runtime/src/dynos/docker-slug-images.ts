/**
 * Slug images of the Docker runtime: once per slug (and app uid), the slug is unpacked into
 * `/app` of a container of the stack image, owned by the app's uid (the archive's owners are
 * rewritten on the way, so no process runs to chown), and committed as
 * `slipway/slug:<checksum>-u<uid>`. Every dyno of the release is then a container of that
 * image: `/app` comes from a shared read-only image layer and each dyno writes into its own
 * container layer (overlay2 copies a file up on its first write), so Heroku's writable,
 * ephemeral `/app` costs nothing per dyno. No image registry is involved.
 */
import type { SlugRef, SlugStore } from '@slipway/core';
import type Docker from 'dockerode';
import { Pack, Parser, type ReadEntry } from 'tar';
import { dynoErrors } from './errors.js';

/** The image tag of a slug for one uid. */
export function slugImageTag(slug: SlugRef, uid: number): string {
  const hex = slug.checksum.replace(/^sha256:/, '').slice(0, 24);
  return `slipway/slug:${hex}-u${uid}`;
}

/** Makes (once) and finds slug images. */
export class SlugImages {
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly docker: Docker,
    private readonly slugStore: SlugStore,
    private readonly stackImage: string,
    private readonly labels: Record<string, string>,
  ) {}

  /** The image of `slug` for `uid`, made now when the engine lacks it; resolves with its tag. */
  ensure(slug: SlugRef, uid: number): Promise<string> {
    const tag = slugImageTag(slug, uid);
    let p = this.pending.get(tag);
    if (!p) {
      p = this.make(slug, uid, tag).finally(() => this.pending.delete(tag));
      this.pending.set(tag, p);
    }
    return p;
  }

  /** Remove a slug's images (no release runs it any more); images in use stay. */
  async remove(slug: SlugRef): Promise<void> {
    const hex = slug.checksum.replace(/^sha256:/, '').slice(0, 24);
    const images = await this.docker.listImages({ filters: { reference: [`slipway/slug:${hex}-*`] } });
    for (const img of images)
      await this.docker
        .getImage(img.Id)
        .remove()
        .catch(() => {});
  }

  private async make(slug: SlugRef, uid: number, tag: string): Promise<string> {
    try {
      await this.docker.getImage(tag).inspect();
      return tag;
    } catch {
      // not made yet
    }
    let container: Docker.Container | undefined;
    try {
      // Never started: the slug goes into its filesystem and the result is committed.
      container = await this.docker.createContainer({
        Image: this.stackImage,
        Cmd: ['true'],
        NetworkDisabled: true,
        Labels: { ...this.labels, 'slipway.role': 'slug-prep' },
      });
      await container.putArchive(ownedBy(this.slugStore.open(slug), uid), { path: '/' });
      const [repo, t] = tag.split(':') as [string, string];
      await container.commit({ repo, tag: t, comment: `slug ${slug.checksum}` });
      return tag;
    } catch (e) {
      throw dynoErrors.SLIPWAY_ERR_DYNO_SLUG(
        { checksum: slug.checksum, detail: (e as Error).message },
        { cause: e },
      );
    } finally {
      await container?.remove({ force: true }).catch(() => {});
    }
  }
}

/**
 * The slug archive (tar.gz, rooted at the app) as an uncompressed tar under `app/` whose every
 * entry belongs to `uid`. Rooted at `app/` rather than extracted into /app: the engine applies
 * the owner of a directory entry, but never of the `./` entry, and /app itself must be the app's.
 */
function ownedBy(slug: NodeJS.ReadableStream, uid: number): NodeJS.ReadableStream {
  const pack = new Pack({});
  const parser = new Parser({
    onReadEntry: (e: ReadEntry) => {
      const rel = (p: string) => `app/${p.replace(/^(\.\/|\.$)/, '')}`;
      e.path = rel(e.path);
      // Hard links name a path inside the archive; symbolic links are left as the app made them.
      if (e.type === 'Link' && e.linkpath) e.linkpath = rel(e.linkpath);
      e.uid = uid;
      e.gid = uid;
      e.uname = '';
      e.gname = '';
      pack.add(e);
    },
  });
  parser.on('end', () => pack.end());
  parser.on('error', (err: Error) => pack.emit('error', err));
  slug.on('error', (err: Error) => pack.emit('error', err));
  slug.pipe(parser);
  return pack as unknown as NodeJS.ReadableStream;
}
