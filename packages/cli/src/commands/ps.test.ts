/** `ps:scale` argument parsing. */
import { isSlipwayError } from '@slipway/core';
import { expect } from 'chai';
import { parseScaleArgs } from './ps.js';

describe('ps:scale arguments', () => {
  it('reads TYPE=N and TYPE=N:SIZE and TYPE=:SIZE', () => {
    expect(parseScaleArgs(['web=2', 'worker=1:standard-2x', 'clock=:performance-m'])).to.deep.equal([
      { type: 'web', quantity: 2 },
      { type: 'worker', quantity: 1, size: 'standard-2x' },
      { type: 'clock', size: 'performance-m' },
    ]);
  });
  it('refuses anything else with a coded error', () => {
    for (const bad of ['web', 'web=', 'web=-1', 'web=two', '=2', 'we b=1', 'web=1;rm']) {
      let err: unknown;
      try {
        parseScaleArgs([bad]);
      } catch (e) {
        err = e;
      }
      expect(isSlipwayError(err, 'SLIPWAY_ERR_CLI_SCALE_ARG'), bad).to.equal(true);
    }
  });
});
