import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { classicBuildpack, classicIdFor, parseClassicRelease } from './classic.js';
import { testBuildpack } from './harness.js';
import { fixture } from './test-helpers.test.js';
import type { BuildpackDefinition } from './types.js';

async function script(file: string, text: string): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, text);
  await chmod(file, 0o755);
}

describe('classicBuildpack', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'slipway-classic-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('derives ids from directory names', () => {
    expect(classicIdFor('/x/heroku-buildpack-ruby')).to.equal('ruby');
    expect(classicIdFor('/x/My Buildpack.git')).to.equal('my-buildpack');
  });

  it('reads bin/release YAML, including add-on objects, and rejects bad YAML', () => {
    expect(
      parseClassicRelease(
        'default_process_types:\n  web: ./run\nconfig_vars:\n  N: 1\naddons:\n  - redis:mini\n  - plan: pg:dev\n',
      ),
    ).to.deep.equal({
      processTypes: { web: './run' },
      configVars: { N: '1' },
      addons: ['redis:mini', 'pg:dev'],
    });
    expect(parseClassicRelease('')).to.deep.equal({});
    expect(() => parseClassicRelease('default_process_types: [a')).to.throw(/invalid YAML/);
    expect(() => parseClassicRelease('default_process_types: just-a-string')).to.throw(/must be a mapping/);
  });

  it('refuses a directory without executable bin/detect and bin/compile', async () => {
    const dir = join(root, 'half');
    await script(join(dir, 'bin/detect'), '#!/bin/sh\necho x\n');
    expect(() => classicBuildpack(dir)).to.throw(/bin\/compile is missing/);
    await writeFile(join(dir, 'bin/compile'), '#!/bin/sh\n');
    expect(() => classicBuildpack(dir)).to.throw(/bin\/compile is not executable/);
  });

  it('runs after an SDK buildpack, seeing its exports but never the config vars', async () => {
    const dir = join(root, 'heroku-buildpack-probe');
    await script(join(dir, 'bin/detect'), '#!/bin/sh\necho Probe\n');
    const probe =
      'echo "FROM_SDK=$FROM_SDK SECRET=$(printenv SECRET || echo unset) file=$(cat "$3/SECRET")" > "$1/probe.txt"';
    await script(join(dir, 'bin/compile'), `#!/bin/bash\necho "-----> Probing"\n${probe}\n`);
    const sdk: BuildpackDefinition = {
      id: 'sdk',
      name: 'SDK',
      detect: () => ({ detected: true }),
      compile: (ctx) => ctx.exportEnv({ FROM_SDK: 'yes it is' }),
    };
    const r = await testBuildpack(classicBuildpack(dir), fixture('static'), {
      plugins: [sdk],
      buildpacks: ['sdk', 'probe'],
      env: { SECRET: 's3cret' },
    });
    expect(r.buildpacks).to.deep.equal(['sdk', 'probe']);
    expect(await readFile(join(r.buildDir!, 'probe.txt'), 'utf8')).to.equal(
      'FROM_SDK=yes it is SECRET=unset file=s3cret\n',
    );
    // A classic buildpack formats its own output: no extra indent.
    expect(r.log).to.include('-----> Probing');
    expect(r.log).to.include('-----> Probe app detected');
    await r.cleanup();
  });
});
