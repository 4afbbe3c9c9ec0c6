/** The adoption window shared by the Docker and Swarm runtimes, on a manual clock (pure logic). */
import { type DynoHandle, manualClock } from '@slipway/core';
import { expect } from 'chai';
import { AdoptableDynos } from './adoptable-dynos.js';

const handle = (app: string, index: number): DynoHandle => ({
  id: `${app}-${index}`,
  app,
  release: 1,
  type: 'web',
  index,
  startedAt: 0,
});

describe('AdoptableDynos (the Docker and Swarm runtimes’ earlier dynos)', () => {
  it('lists the waiting dynos as up, hands each to one claim, and removes the rest when the window closes', async () => {
    const removed: string[] = [];
    const a = new AdoptableDynos<string>(async (item) => removed.push(item));
    a.add('k1', 'c1', handle('shop', 1));
    a.add('k2', 'c2', handle('shop', 2));
    a.add('k3', 'c3', handle('blog', 1));
    const clock = manualClock();
    a.open(clock, 60_000);
    const own = [{ handle: handle('shop', 9), stopping: true }];
    expect(a.statuses(own, 'shop').map((s) => [s.index, s.state])).to.deep.equal([
      [9, 'stopping'],
      [1, 'up'],
      [2, 'up'],
    ]);
    expect([...a.apps()].sort()).to.deep.equal(['blog', 'shop']);
    expect(a.claim('k1')).to.equal('c1');
    expect(a.claim('k1')).to.equal(undefined);
    clock.advance(59_999);
    expect(removed).to.deep.equal([]);
    clock.advance(1);
    await Promise.resolve();
    expect(removed.sort()).to.deep.equal(['c2', 'c3']);
    expect(a.statuses([])).to.deep.equal([]);
  });

  it('sets no timer when nothing waits, and removes nothing once closed', () => {
    const clock = manualClock();
    const removed: string[] = [];
    const none = new AdoptableDynos<string>(async (item) => removed.push(item));
    none.open(clock, 1000);
    expect(clock.pending).to.equal(0);
    const some = new AdoptableDynos<string>(async (item) => removed.push(item));
    some.add('k', 'c', handle('shop', 1));
    some.open(clock, 1000);
    some.close();
    clock.advance(5000);
    expect(removed).to.deep.equal([]);
  });
});
