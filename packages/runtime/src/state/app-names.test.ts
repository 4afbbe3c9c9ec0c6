/** Generated app names: Heroku's `adjective-noun-NNNN`, always a valid app name. */
import { expect } from 'chai';
import { herokuSizeName } from '../release-service.js';
import { generateAppName } from './app-names.js';
import { APP_NAME } from './sqlite-state-store.js';

describe('generated app names', () => {
  it('are adjective-noun-NNNN, valid app names, and rarely repeat', () => {
    const names = Array.from({ length: 500 }, generateAppName);
    for (const n of names) {
      expect(n).to.match(/^[a-z]+-[a-z]+-\d{4}$/);
      expect(APP_NAME.test(n), n).to.equal(true);
    }
    expect(new Set(names).size).to.be.above(490);
  });
});

describe('Scaled to line', () => {
  it("spells sizes as Heroku's log does", () => {
    expect(herokuSizeName('standard-1x')).to.equal('Standard-1X');
    expect(herokuSizeName('performance-m')).to.equal('Performance-M');
    expect(herokuSizeName('eco')).to.equal('Eco');
    expect(herokuSizeName('performance-l-ram')).to.equal('Performance-L-RAM');
  });
});
