/**
 * The apps' stacks over a real state file and a stack cache dir: an app without a choice is on
 * the default; a known, built stack is set and listed; an unknown or unbuilt one is refused with
 * the coded error that says how to build it; the choice goes with the app.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { SqliteStateStore } from '../state/sqlite-state-store.js';
import { AppStacks, requireStack } from './app-stacks.js';

describe('AppStacks (state file, stack cache dir)', () => {
  let dir: string;
  let cache: string;
  let state: SqliteStateStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-app-stacks-'));
    cache = join(dir, 'stacks');
    // slipway-13 built (both roots' digests), slipway-14 not.
    await mkdir(join(cache, 'slipway-13'), { recursive: true });
    for (const v of ['run', 'build']) await writeFile(join(cache, 'slipway-13', `${v}.digest`), 'x\n');
    state = new SqliteStateStore(join(dir, 'state.db'));
  });
  after(async () => {
    state?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('puts apps on the default, sets a built stack, refuses unknown and unbuilt ones, forgets a deleted app', async () => {
    const stacks = new AppStacks(state.db, 'slipway-13', cache);
    const a = state.createApp('stacked');
    expect(stacks.of(a.id)).to.equal('slipway-13');
    const unbuilt = await stacks.set(a.id, 'slipway-14').catch((e) => e);
    expect(unbuilt.code).to.equal('SLIPWAY_ERR_STACK_NOT_BUILT');
    expect(unbuilt.hint).to.include('sudo npx slipway stack:build slipway-14');
    const unknown = await requireStack('heroku-24', cache).catch((e) => e);
    expect(unknown.code).to.equal('SLIPWAY_ERR_STACK_UNKNOWN');
    expect(unknown.hint).to.include('slipway-13, slipway-14');
    expect(stacks.of(a.id)).to.equal('slipway-13');
    expect((await stacks.list()).map((s) => [s.name, s.built, s.default])).to.deep.equal([
      ['slipway-13', true, true],
      ['slipway-14', false, false],
    ]);
    for (const v of ['run', 'build']) {
      await mkdir(join(cache, 'slipway-14'), { recursive: true });
      await writeFile(join(cache, 'slipway-14', `${v}.digest`), 'x\n');
    }
    await stacks.set(a.id, 'slipway-14');
    expect(stacks.of(a.id)).to.equal('slipway-14');
    // Opened again (a restart): the choice and the table's migrations are kept.
    expect(new AppStacks(state.db, 'slipway-13', cache).of(a.id)).to.equal('slipway-14');
    state.deleteApp('stacked');
    const again = state.createApp('stacked');
    expect(stacks.of(again.id)).to.equal('slipway-13');
    const count = state.db.prepare('SELECT COUNT(*) AS n FROM app_stacks').get() as { n: number };
    expect(count.n).to.equal(0);
  });
});
