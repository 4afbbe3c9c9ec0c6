import { expect } from 'chai';
import { type RouteDecision, withHeaderEdits } from './hooks.js';

describe("withHeaderEdits (merging route taps' header edits)", () => {
  it('merges edits of several taps: later names win, case-insensitively, and a removal cancels a set', () => {
    const app: RouteDecision = { kind: 'app', app: 'web' };
    const one = withHeaderEdits(app, {
      requestHeaders: { set: { 'X-User': 'a', 'X-Trace': '1' }, remove: ['Cookie'] },
      responseHeaders: { 'X-Frame-Options': 'DENY' },
    });
    const two = withHeaderEdits(one, {
      requestHeaders: { set: { 'x-user': 'b', Cookie: 'kept' }, remove: ['X-Trace'] },
      responseHeaders: { 'x-frame-options': 'SAMEORIGIN', 'Strict-Transport-Security': 'max-age=60' },
    });
    expect(two).to.deep.equal({
      kind: 'app',
      app: 'web',
      requestHeaders: { set: { 'x-user': 'b', Cookie: 'kept' }, remove: ['x-trace'] },
      responseHeaders: { 'x-frame-options': 'SAMEORIGIN', 'Strict-Transport-Security': 'max-age=60' },
    });
    // The input decisions are left as they were (taps return copies).
    expect(app).to.deep.equal({ kind: 'app', app: 'web' });
    expect(one.requestHeaders?.set).to.deep.equal({ 'X-User': 'a', 'X-Trace': '1' });
  });

  it('leaves a `none` decision alone (nothing answers it but the 404)', () => {
    const none: RouteDecision = { kind: 'none' };
    expect(withHeaderEdits(none, { responseHeaders: { A: 'b' } })).to.equal(none);
  });
});
