/**
 * Shared runtime members (shared-members.ts): a build dir whose `.heroku/node` links into the
 * store gets the store's packed member appended as is (the slug unpacks to the runtime's tree,
 * with GNU tar and node-tar), a link anywhere else is not taken for one, and the slug splits
 * back into the app's rest (a complete archive with the end appended) and the member.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { extractArchive } from '../archive.js';
import {
  ARCHIVE_END,
  packSharedMember,
  publishSharedMember,
  sharedMemberAt,
  sharedMembers,
  splitSharedMember,
  unpackWithSharedTail,
} from './shared-members.js';
import { packSlug } from './slug.js';
import { MEMBER_MIN_BYTES } from './slug-members.js';

describe('shared runtime members', () => {
  let tmp: string;
  let store: string;
  const limits = { maxBytes: 1 << 30 };

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'slipway-shared-members-'));
    store = path.join(tmp, 'store');
    const entry = path.join(tmp, 'making');
    const home = path.join(entry, 'tree/.heroku/node');
    await mkdir(path.join(home, 'bin'), { recursive: true });
    await writeFile(path.join(home, 'bin/node'), randomBytes(MEMBER_MIN_BYTES + 1024), { mode: 0o755 });
    await packSharedMember(entry, '.heroku/node', { node: 'v0.0.1' });
    await publishSharedMember(entry, store, 'node-v0.0.1');
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  const app = async (name: string, target: string) => {
    const dir = path.join(tmp, name);
    await mkdir(path.join(dir, '.heroku'), { recursive: true });
    await writeFile(path.join(dir, 'index.js'), `console.log(${JSON.stringify(name)})\n`);
    await symlink(target, path.join(dir, '.heroku/node'));
    return dir;
  };

  it('appends the store member for a link into the store, and splits the slug back at it', async () => {
    const [member] = await sharedMembers(store);
    expect(member?.about).to.deep.equal({ node: 'v0.0.1' });
    const dir = await app('one', path.join(store, 'node-v0.0.1/tree/.heroku/node'));
    const slug = await packSlug(dir, path.join(tmp, 'one.tgz'), limits, path.join(tmp, 'cache'), store);
    expect(slug.packing?.members).to.deep.equal([
      { name: './.heroku/node', bytes: member?.size, reused: true, shared: true },
    ]);
    for (const how of ['node', 'gnu']) {
      const out = path.join(tmp, `out-${how}`);
      await mkdir(out);
      if (how === 'node') await extractArchive(slug.path, out);
      else execFileSync('tar', ['-xzf', slug.path, '-C', out]);
      expect(await readFile(path.join(out, '.heroku/node/bin/node'))).to.deep.equal(
        await readFile(path.join(store, 'node-v0.0.1/tree/.heroku/node/bin/node')),
      );
    }
    // The rest, with the end appended, is the app without the runtime.
    const split = await splitSharedMember(slug.path, slug.size, member as NonNullable<typeof member>);
    expect(split?.restBytes).to.be.a('number');
    const rest = path.join(tmp, 'rest.tgz');
    await writeFile(
      rest,
      Buffer.concat([readFileSync(slug.path).subarray(0, split?.restBytes), ARCHIVE_END]),
    );
    const names = execFileSync('tar', ['-tzf', rest], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(names).to.include('./index.js').and.include('./.heroku/');
    expect(names.filter((n) => n.startsWith('./.heroku/node'))).to.deep.equal([]);
  });

  it('takes no other link for a shared member, and finds none at the end of a slug without it', async () => {
    // A link to the tree under another name, and one to a copy outside the store.
    await mkdir(path.join(tmp, 'two/.heroku'), { recursive: true });
    await symlink(path.join(store, 'node-v0.0.1/tree/.heroku/node'), path.join(tmp, 'two/.heroku/runtime'));
    expect(await sharedMemberAt(store, path.join(tmp, 'two'), '.heroku/runtime')).to.equal(undefined);
    const outside = path.join(tmp, 'copy/tree/.heroku/node');
    await mkdir(outside, { recursive: true });
    await app('three', outside);
    expect(await sharedMemberAt(store, path.join(tmp, 'three'), '.heroku/node')).to.equal(undefined);
    const plain = await packSlug(path.join(tmp, 'three'), path.join(tmp, 'three.tgz'), limits);
    const [member] = await sharedMembers(store);
    expect(await splitSharedMember(plain.path, plain.size, member as NonNullable<typeof member>)).to.equal(
      undefined,
    );
  });

  it("links the runtime only into the slug's own dirs: a `.heroku` link the app brought is not followed", async () => {
    // A build can report a slug it wrote itself: the app's part, then the store's member as is.
    const victim = path.join(tmp, 'victim');
    await mkdir(victim);
    const crafted = path.join(tmp, 'crafted');
    await mkdir(crafted);
    await writeFile(path.join(crafted, 'index.js'), 'x\n');
    await symlink(victim, path.join(crafted, '.heroku'));
    // The app's entries without tar's end blocks (with -b 1 they are the last 1024 bytes).
    const entries = execFileSync('tar', ['-c', '-f', '-', '-b', '1', '--format=gnu', '-C', crafted, '.']);
    const [member] = await sharedMembers(store);
    const slug = path.join(tmp, 'crafted.tgz');
    await writeFile(
      slug,
      Buffer.concat([
        gzipSync(entries.subarray(0, entries.length - 1024)),
        readFileSync(path.join(member?.dir as string, 'member.gz')),
        ARCHIVE_END,
      ]),
    );
    const into = path.join(tmp, 'crafted-out');
    await mkdir(into);
    const extract = async (archive: string, dir: string) => {
      execFileSync('tar', ['-xzf', archive, '-C', dir]);
    };
    expect(await unpackWithSharedTail(store, slug, into, extract)).to.equal(false);
    expect(await readdir(victim)).to.deep.equal([]);
  });
});
