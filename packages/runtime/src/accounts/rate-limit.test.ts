import { expect } from 'chai';
import { AttemptLimiter } from './rate-limit.js';

describe('sign-in attempt limiter', () => {
  it('blocks a key after max failures until its window ends; clear resets it', () => {
    const l = new AttemptLimiter(3, 60_000);
    const t = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfter('a', t)).to.equal(0);
      l.fail('a', t);
    }
    expect(l.retryAfter('a', t + 1000)).to.equal(59);
    expect(l.retryAfter('b', t)).to.equal(0);
    expect(l.retryAfter('a', t + 60_000)).to.equal(0);
    l.fail('a', t + 60_000);
    expect(l.retryAfter('a', t + 60_001)).to.equal(0);
    l.fail('c', t);
    l.fail('c', t);
    l.fail('c', t);
    l.clear('c');
    expect(l.retryAfter('c', t)).to.equal(0);
  });
});
