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

  it('takes back an attempt that succeeded', () => {
    const l = new AttemptLimiter(2, 60_000);
    const t = 1_000_000;
    l.fail('a', t);
    l.fail('a', t);
    expect(l.retryAfter('a', t)).to.be.greaterThan(0);
    l.forgive('a');
    expect(l.retryAfter('a', t)).to.equal(0);
  });

  it('keeps at most maxKeys keys under a spray of addresses within one window, dropping the oldest', () => {
    const l = new AttemptLimiter(1, 60_000, 100);
    const t = 1_000_000;
    for (let i = 0; i < 10_000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`, t + i);
    expect(l.size).to.equal(100);
    expect(l.retryAfter('10.0.39.15', t + 10_000)).to.be.greaterThan(0);
    expect(l.retryAfter('10.0.0.0', t + 10_000)).to.equal(0);
  });
});
