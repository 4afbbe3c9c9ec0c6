/**
 * Slug images of the Docker runtime: once per slug (and app uid), the slug is unpacked into
 * `/app` of a container of the stack image, chowned to the app's uid (one short `chown -R`
 * run; rewriting the archive's owners on the way with node-tar stalled on larger slugs), and
 * committed as
 * `slipway/slug:<checksum>-u<uid>`. Every dyno of the release is then a container of that
 * image: `/app` comes from a shared read-only image layer and each dyno writes into its own
 * container layer (overlay2 copies a file up on its first write), so Heroku's writable,
 * ephemeral `/app` costs nothing per dyno. No image registry is involved.
 *
 * A slug that ends with a member of the platform's shared store (the platform's Node.js at
 * `.heroku/node`: core's shared-members.ts) is two layers: the member unpacked once per machine
 * and stack as `slipway/member:<checksum>-<stack>` (root's, read-only to the app, as the store
 * is), and the slug image made FROM it with only the rest of the slug unpacked and chowned. A
 * release of a Node app then unpacks a few hundred KB, not the 117 MB of its runtime.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import {
  ARCHIVE_END,
  memberFile,
  type SharedMember,
  type SlugRef,
  type SlugStore,
  sharedRuntimeStore,
  sharedTail,
  slugRest,
} from '@slipway/core';
import type Docker from 'dockerode';
import { knownStack } from '../stack/app-stacks.js';
import { requireStackImage } from './docker-container.js';
import { dynoErrors } from './errors.js';

/** The image tag of a slug for one uid. */
export function slugImageTag(slug: SlugRef, uid: number): string {
  const hex = slug.checksum.replace(/^sha256:/, '').slice(0, 24);
  // Named by the stack too: the image is the slug on top of its stack's.
  return `slipway/slug:${hex}-u${uid}${slug.stack ? `-${slug.stack}` : ''}`;
}

/** Makes (once) and finds slug images. */
export class SlugImages {
  private readonly pending = new Map<string, Promise<string>>();
  /** Tags known to exist: a scale-up of 100 dynos asks the engine once, not 100 times. */
  private readonly known = new Set<string>();

  constructor(
    private readonly docker: Docker,
    private readonly slugStore: SlugStore,
    private readonly stackImage: string,
    private readonly labels: Record<string, string>,
    /** The platform's shared member store (shared-runtimes.ts). */
    private readonly memberStore = sharedRuntimeStore(),
  ) {}

  /** The image of `slug` for `uid`, made now when the engine lacks it; resolves with its tag. */
  ensure(slug: SlugRef, uid: number): Promise<string> {
    const tag = slugImageTag(slug, uid);
    if (this.known.has(tag)) return Promise.resolve(tag);
    let p = this.pending.get(tag);
    if (!p) {
      p = this.make(slug, uid, tag)
        .then((t) => {
          this.known.add(t);
          return t;
        })
        .finally(() => this.pending.delete(tag));
      this.pending.set(tag, p);
    }
    return p;
  }

  /** Forget that `tag` exists (the engine lost it): the next `ensure` makes it again. */
  forget(tag: string): void {
    this.known.delete(tag);
  }

  /** Remove a slug's images (no release runs it any more); images in use stay. */
  async remove(slug: SlugRef): Promise<void> {
    const hex = slug.checksum.replace(/^sha256:/, '').slice(0, 24);
    for (const t of this.known) if (t.startsWith(`slipway/slug:${hex}-`)) this.known.delete(t);
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
    // A slug runs in the stack it was built in (a rollback too), the runtime's or another one.
    if (slug.stack) knownStack(slug.stack);
    const image = slug.stack ? `slipway/stack:${slug.stack}` : this.stackImage;
    if (image !== this.stackImage) await requireStackImage(this.docker, image, slug.stack as string);
    let container: Docker.Container | undefined;
    try {
      const file = this.slugStore.path?.(slug);
      const split = file ? await sharedTail(this.memberStore, file, slug.size) : undefined;
      const owner = `${uid}:${uid}`;
      // The member's files stay root's: only what the slug adds becomes the app's.
      const cmd = split
        ? ['find', '/app', '-path', `/app/${split.member.name.slice(2)}`, '-prune', '-o'].concat([
            '-exec',
            'chown',
            '-h',
            owner,
            '{}',
            '+',
          ])
        : ['chown', '-R', owner, '/app'];
      container = await this.docker.createContainer({
        Image: split ? await this.memberImage(split.member, image) : image,
        Cmd: cmd,
        User: '0',
        NetworkDisabled: true,
        Labels: { ...this.labels, 'slipway.role': 'slug-prep' },
      });
      const archive = split
        ? Readable.from(slugRest(file as string, split.restBytes))
        : this.slugStore.open(slug);
      await container.putArchive(archive, { path: '/app' });
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      if (StatusCode !== 0) throw new Error(`chown of /app exited ${StatusCode}`);
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

  /** The image of `base` with `m` unpacked into `/app`, made once per machine (root's files). */
  private memberImage(m: SharedMember, base: string): Promise<string> {
    const key = `${m.checksum}|${base}`;
    let p = this.pendingMembers.get(key);
    if (!p) {
      p = this.makeMemberImage(m, base).finally(() => this.pendingMembers.delete(key));
      this.pendingMembers.set(key, p);
    }
    return p;
  }

  private readonly pendingMembers = new Map<string, Promise<string>>();

  private async makeMemberImage(m: SharedMember, base: string): Promise<string> {
    // Named by the stack image's id too: a rebuilt stack gets its own member layer.
    const { Id } = await this.docker.getImage(base).inspect();
    const tag = `slipway/member:${m.checksum.replace(/^sha256:/, '').slice(0, 24)}-${Id.replace(/^sha256:/, '').slice(0, 12)}`;
    if (
      await this.docker
        .getImage(tag)
        .inspect()
        .then(
          () => true,
          () => false,
        )
    )
      return tag;
    const container = await this.docker.createContainer({
      Image: base,
      Cmd: ['true'],
      User: '0',
      NetworkDisabled: true,
      // Not the platform's label: the layer is the machine's, shared by every platform on it.
      Labels: { 'slipway.role': 'member-prep' },
    });
    try {
      async function* member() {
        yield* createReadStream(memberFile(m), { highWaterMark: 1 << 20 });
        yield ARCHIVE_END;
      }
      await container.putArchive(Readable.from(member()), { path: '/app' });
      const [repo, t] = tag.split(':') as [string, string];
      await container.commit({ repo, tag: t, comment: `shared member ${m.name} ${m.checksum}` });
      return tag;
    } finally {
      await container.remove({ force: true }).catch(() => {});
    }
  }
}
