/**
 * Shared runtime members (shared-members.ts): a build dir whose `.heroku/node` links into the
 * store gets the store's packed member appended as is (the slug unpacks to the runtime's tree,
 * with GNU tar and node-tar), a link anywhere else is not taken for one, and the slug splits
 * back into the app's rest (a complete archive with the end appended) and the member.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { extractArchive } from '../archive.js';
import {
  ARCHIVE_END,
  packSharedMember,
  publishSharedMember,
  sharedMemberAt,
  sharedMembers,
  splitSharedMember,
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
});
