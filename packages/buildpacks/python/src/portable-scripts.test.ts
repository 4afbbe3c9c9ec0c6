/** A slug's scripts and launchers run from wherever the slug is unpacked, not the build dir. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { portableScripts } from './dependencies.js';
import { launcherTarget } from './profile.js';

describe('portable scripts and launchers', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-py-scripts-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("points pip's console scripts at python3 on PATH, in both shebang forms", async () => {
    const exe = '/build/app/.heroku/python-runtime/usr/bin/python3.13';
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'short'), `#!${exe}\nimport sys\n`);
    await writeFile(join(bin, 'long'), `#!/bin/sh\n'''exec' ${exe} "$0" "$@"\n' '''\nimport sys\n`);
    await writeFile(join(bin, 'other'), '#!/usr/bin/python3.11\nimport sys\n');
    await portableScripts(bin, exe);
    expect(await readFile(join(bin, 'short'), 'utf8')).to.equal('#!/usr/bin/env python3\nimport sys\n');
    expect(await readFile(join(bin, 'long'), 'utf8')).to.equal(
      `#!/bin/sh\n'''exec' python3 "$0" "$@"\n' '''\nimport sys\n`,
    );
    expect(await readFile(join(bin, 'other'), 'utf8')).to.equal('#!/usr/bin/python3.11\nimport sys\n');
  });

  it('launches an interpreter in the slug relative to the launcher, and a host one by its path', () => {
    expect(
      launcherTarget('/b', '/b/.heroku/python/bin', '/b/.heroku/python-runtime/usr/bin/python3.13'),
    ).to.equal('"$(dirname "$0")/../../python-runtime/usr/bin/python3.13"');
    expect(launcherTarget('/b', '/b/.heroku/python/bin', '/usr/bin/python3.11')).to.equal(
      "'/usr/bin/python3.11'",
    );
  });
});
