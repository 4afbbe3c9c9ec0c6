/** core's manual clock: timers fire in time order only as the clock is moved, cancelled ones never. */
import { expect } from 'chai';
import { every, manualClock } from './services.js';

describe('manualClock', () => {
  it('fires due timers in time order as it advances, including ones they set; cancel holds', () => {
    const clock = manualClock(1_000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 50);
    }, 100);
    const never = clock.setTimeout(() => fired.push('cancelled'), 120);
    never.cancel();
    clock.advance(99);
    expect(fired).to.deep.equal([]);
    expect(clock.pending).to.equal(2);
    clock.advance(1_000);
    expect(fired).to.deep.equal(['a@1100', 'c@1150', 'b@1200']);
    expect(clock.now()).to.equal(2_099);
    expect(clock.pending).to.equal(0);
  });
});

describe('every', () => {
  it('runs a poller once per period of clock time until cancelled', () => {
    const clock = manualClock(0);
    const at: number[] = [];
    const poller = every(clock, 1000, () => at.push(clock.now()));
    clock.advance(999);
    expect(at).to.deep.equal([]);
    clock.advance(2001);
    expect(at).to.deep.equal([1000, 2000, 3000]);
    poller.cancel();
    clock.advance(5000);
    expect(at).to.have.length(3);
    expect(clock.pending).to.equal(0);
  });
});
