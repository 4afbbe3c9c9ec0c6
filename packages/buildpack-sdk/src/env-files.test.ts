import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { renderExports, sourceExportFile } from './env-files.js';
import { testBuildpack } from './harness.js';
import { fixture } from './test-helpers.test.js';
import type { BuildpackDefinition } from './types.js';

const run = promisify(execFile);
const TRICKY = 'a "quoted" $HOME `id` \\ back\nnew line \'single\'';

describe('exports and .profile.d', () => {
  it('quotes export lines so bash reads back exactly the value', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-export-'));
    const file = join(dir, 'export');
    await writeFile(file, renderExports({ TRICKY, EMPTY: '' }));
    const got = await sourceExportFile(file, { PATH: process.env.PATH ?? '' });
    expect(got).to.deep.equal({ TRICKY, EMPTY: '' });
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses invalid variable names', () => {
    expect(() => renderExports({ 'BAD-NAME': 'x' })).to.throw(/BAD-NAME/);
  });

  it('passes exports to a later buildpack and writes .profile.d scripts', async () => {
    let seen = '';
    const first: BuildpackDefinition = {
      id: 'first',
      name: 'First',
      detect: () => ({ detected: true }),
      async compile(ctx) {
        await ctx.run('mkdir', ['-p', 'vendor/bin']);
        await writeFile(join(ctx.buildDir, 'vendor/bin/greet'), '#!/bin/sh\necho "greetings from vendor"\n', {
          mode: 0o755,
        });
        await ctx.exportEnv({
          PATH: `${join(ctx.buildDir, 'vendor/bin')}:${ctx.env.PATH ?? process.env.PATH}`,
          TRICKY,
        });
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a JS template
        await ctx.profileD('first', 'export GREETING="${GREETING:-hello}"');
      },
    };
    const second: BuildpackDefinition = {
      id: 'second',
      name: 'Second',
      detect: () => ({ detected: true }),
      async compile(ctx) {
        expect(ctx.env.TRICKY).to.equal(TRICKY);
        seen = (await ctx.run('bash', ['-c', 'greet; printf %s "$TRICKY"'], { stream: false })).stdout;
      },
    };
    const r = await testBuildpack(second, fixture('static'), {
      plugins: [first],
      buildpacks: ['first', 'second'],
    });
    expect(seen).to.equal(`greetings from vendor\n${TRICKY}`);
    const profile = join(r.buildDir!, '.profile.d/first.sh');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a JS template
    expect(await readFile(profile, 'utf8')).to.equal('export GREETING="${GREETING:-hello}"\n');
    // As a dyno would: config var set wins, unset takes the default.
    const dflt = await run('bash', ['-c', '. "$1"; echo "$GREETING"', 'bash', profile], { env: {} });
    const set = await run('bash', ['-c', '. "$1"; echo "$GREETING"', 'bash', profile], {
      env: { GREETING: 'hey' },
    });
    expect([dflt.stdout, set.stdout]).to.deep.equal(['hello\n', 'hey\n']);
    await r.cleanup();
  });
});
