import { expect } from 'chai';
import { matchAddonSpec } from './addon-alias.js';
import type { AddonEntry } from './plugin.js';

const postgres: AddonEntry = {
  service: 'postgres',
  name: 'Postgres',
  plugin: 'addon-postgres',
  configVars: ['POSTGRES_URL'],
  aliases: ['heroku-postgresql'],
  plans: [
    { name: 'shared', default: true, aliases: ['essential-*', 'mini'] },
    { name: 'dedicated', aliases: ['standard-*', 'premium-*', 'premium-9'] },
  ],
};
const other: AddonEntry = { ...postgres, service: 'other', aliases: [], plans: [{ name: 'premium-9' }] };

describe('add-on names and aliases', () => {
  it('finds the service by name or alias and the plan by name, exact alias or family', () => {
    const m = (spec: string) => {
      const r = matchAddonSpec([other, postgres], spec);
      return r && { service: r.entry.service, plan: r.plan, via: r.via };
    };
    expect(m('postgres')).to.deep.equal({ service: 'postgres', plan: 'shared', via: [] });
    expect(m('heroku-postgresql')).to.deep.equal({
      service: 'postgres',
      plan: 'shared',
      via: ['heroku-postgresql → postgres'],
    });
    expect(m('heroku-postgresql:essential-0')?.plan).to.equal('shared');
    expect(m('heroku-postgresql:standard-2')?.via).to.deep.equal([
      'heroku-postgresql → postgres',
      'standard-2 → dedicated',
    ]);
    expect(m('postgres:dedicated')?.plan).to.equal('dedicated');
    expect(m('postgres:enterprise')).to.deep.include({ plan: undefined });
    expect(m('nosuch:plan')).to.equal(undefined);
    expect(m('other:premium-9')?.plan).to.equal('premium-9');
  });
});
