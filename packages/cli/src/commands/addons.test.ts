/** Argument parsing of the add-on and Postgres verbs. */
import { isSlipwayError } from '@slipway/core';
import { expect } from 'chai';
import { parseProviderOptions } from './addons.js';
import { psqlInvocation } from './pg.js';

describe('addons:create provider options', () => {
  it('reads --key value, --key=value and bare flags as Heroku passes them', () => {
    expect(
      parseProviderOptions(['--database_url', '--version', '15', '--region=eu', '--fork']),
    ).to.deep.equal({
      database_url: 'true',
      version: '15',
      region: 'eu',
      fork: 'true',
    });
    expect(parseProviderOptions([])).to.deep.equal({});
  });
  it('refuses a word that is not an option with a coded error', () => {
    let err: unknown;
    try {
      parseProviderOptions(['version', '15']);
    } catch (e) {
      err = e;
    }
    expect(isSlipwayError(err, 'SLIPWAY_ERR_CLI_ADDON_OPTION')).to.equal(true);
  });
});

describe('pg:psql invocation', () => {
  it('passes host, port, user and database as arguments and the password only in the environment', () => {
    const { args, env } = psqlInvocation('postgres://u1:p%40ss@127.0.0.1:6543/d1');
    expect(args).to.deep.equal(['-h', '127.0.0.1', '-p', '6543', '-U', 'u1', '-d', 'd1']);
    expect(env).to.deep.equal({ PGPASSWORD: 'p@ss' });
    expect(args.join(' ')).not.to.contain('p@ss');
  });
});
