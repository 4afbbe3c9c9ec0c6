import { readFileSync } from 'node:fs';
import { configPrefix, isSlipwayError } from '@slipway/core';
import { expect } from 'chai';
import { attachConfig, attachedVarName, checkResult } from './config-vars.js';
import { type AddonManifest, addonManifestSchema, manifestProblems, validateManifest } from './manifest.js';

const good: AddonManifest = {
  id: 'redis-cloud',
  name: 'Redis Cloud',
  plans: [{ name: 'free', default: true }, { name: 'pro' }],
  api: { config_vars: ['REDIS_CLOUD_URL', 'REDIS_URL'], password: 'a-long-password' },
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isSlipwayError(e) ? e.code : `not coded: ${e}`;
  }
  return undefined;
}

describe('addon-sdk manifest', () => {
  it('accepts a valid manifest', () => {
    expect(manifestProblems(good)).to.deep.equal([]);
    expect(validateManifest(good)).to.equal(good);
  });

  const cases: [string, (m: any) => void, string][] = [
    ['an upper-case id', (m) => (m.id = 'Redis'), 'id'],
    ['a missing name', (m) => delete m.name, 'name'],
    ['a lower-case config var', (m) => (m.api.config_vars = ['redis_cloud_url']), 'api.config_vars[0]'],
    ['no plans', (m) => (m.plans = []), 'plans'],
    ['no default plan', (m) => (m.plans = [{ name: 'a' }, { name: 'b' }]), 'plans'],
    [
      'two default plans',
      (m) =>
        (m.plans = [
          { name: 'a', default: true },
          { name: 'b', default: true },
        ]),
      'plans',
    ],
    ['no var prefixed by the id', (m) => (m.api.config_vars = ['DATABASE_URL']), 'api.config_vars'],
    [
      'a bad production base_url',
      (m) => (m.api.production = { base_url: 'http://x/resources' }),
      'api.production.base_url',
    ],
  ];
  for (const [what, mutate, field] of cases)
    it(`refuses ${what}, naming ${field}`, () => {
      const m = structuredClone(good);
      mutate(m);
      const [p] = manifestProblems(m);
      expect(p?.field).to.equal(field);
      let err: unknown;
      try {
        validateManifest(m, 'test');
      } catch (e) {
        err = e;
      }
      expect(isSlipwayError(err, 'SLIPWAY_ERR_ADDON_MANIFEST')).to.equal(true);
      expect((err as Error).message)
        .to.contain(field)
        .and.contain('(test)');
    });

  it('ships the same schema as schemas/addon-manifest.json for non-TypeScript tools', () => {
    const file = new URL('../schemas/addon-manifest.json', import.meta.url);
    expect(JSON.parse(readFileSync(file, 'utf8'))).to.deep.equal(addonManifestSchema);
  });

  it('does not change the manifest it validates', () => {
    const m = structuredClone(good);
    validateManifest(m);
    expect(m).to.deep.equal(good);
  });
});

describe('addon-sdk config var naming', () => {
  it('derives the prefix from the id', () => {
    expect(configPrefix('redis-cloud')).to.equal('REDIS_CLOUD');
  });

  it('replaces the id prefix with the attachment name and keeps aliases', () => {
    expect(attachedVarName(good, 'REDIS_CLOUD_URL', 'PRIMARY')).to.equal('PRIMARY_URL');
    expect(attachedVarName(good, 'REDIS_CLOUD_URL', 'cache-two')).to.equal('CACHE_TWO_URL');
    expect(attachedVarName(good, 'REDIS_CLOUD_URL', '')).to.equal('REDIS_CLOUD_URL');
    expect(
      attachConfig(good, { REDIS_CLOUD_URL: 'redis://h', REDIS_URL: 'redis://h' }, 'PRIMARY'),
    ).to.deep.equal({
      PRIMARY_URL: 'redis://h',
      REDIS_URL: 'redis://h',
    });
    expect(codeOf(() => attachedVarName(good, 'REDIS_CLOUD_URL', '9lives'))).to.equal(
      'SLIPWAY_ERR_ADDON_ATTACHMENT_NAME',
    );
  });

  it('enforces declared names, string values, URL shape and a resource id', () => {
    const ok = { id: 'r-1', config: { REDIS_CLOUD_URL: 'redis://u:p@host:6379' } };
    expect(checkResult(good, ok, 'provision')).to.deep.equal(ok);
    expect(
      codeOf(() => checkResult(good, { id: 'r-1', config: { OTHER_URL: 'redis://h' } }, 'provision')),
    ).to.equal('SLIPWAY_ERR_ADDON_CONFIG_UNDECLARED');
    expect(codeOf(() => checkResult(good, { id: 'r-1', config: { REDIS_URL: 6379 } }, 'provision'))).to.equal(
      'SLIPWAY_ERR_ADDON_CONFIG_VALUE',
    );
    expect(
      codeOf(() => checkResult(good, { id: 'r-1', config: { REDIS_URL: 'localhost:6379' } }, 'provision')),
    ).to.equal('SLIPWAY_ERR_ADDON_CONFIG_VALUE');
    expect(
      codeOf(() => checkResult(good, { id: 'r-1', config: { REDIS_URL: 'file:///tmp/x' } }, 'provision')),
    ).to.equal('SLIPWAY_ERR_ADDON_CONFIG_VALUE');
    expect(codeOf(() => checkResult(good, { id: '', config: {} }, 'provision'))).to.equal(
      'SLIPWAY_ERR_ADDON_RESULT',
    );
    expect(codeOf(() => checkResult(good, { config: {} }, 'provision'))).to.equal('SLIPWAY_ERR_ADDON_RESULT');
    expect(
      codeOf(() => checkResult(good, { id: 'r-2', config: {} }, 'plan change', { expectId: 'r-1' })),
    ).to.equal('SLIPWAY_ERR_ADDON_RESULT');
    expect(codeOf(() => checkResult(good, ok, 'provision', { exact: true }))).to.equal(
      'SLIPWAY_ERR_ADDON_RESULT',
    );
  });
});
