/** Pure logic of app.json env resolution: precedence, generated secrets, missing keys by name. */
import { expect } from 'chai';
import { readManifest, resolveEnv } from './app-setup-service.js';

describe('app.json env resolution', () => {
  const m = readManifest({
    env: {
      A: { required: true },
      B: { value: 'from-value' },
      C: { generator: 'secret' },
      D: { required: false },
      E: 'shorthand',
    },
  });

  it('takes given values first, then current config, value defaults and generated secrets', () => {
    const { env, generated } = resolveEnv(m, { A: 'given', B: 'given-b' }, { C: 'kept' });
    expect(env).to.deep.equal({ A: 'given', B: 'given-b', C: 'kept', E: 'shorthand' });
    expect(generated).to.deep.equal([]);
    const fresh = resolveEnv(m, { A: 'x' });
    expect(fresh.generated).to.deep.equal(['C']);
    expect(fresh.env.C).to.match(/^[0-9a-f]{64}$/);
    expect(resolveEnv(m, { A: 'x' }).env.C).to.not.equal(fresh.env.C);
  });

  it('names every missing required key, and refuses bad manifests and bad given names', () => {
    const two = readManifest({ env: { A: { required: true }, Z: { description: 'z' } } });
    expect(() => resolveEnv(two, {})).to.throw(/requires A, Z/);
    expect(() => readManifest({ env: { 'bad-name': 'x' } })).to.throw(/app\.json is invalid/);
    expect(() => readManifest('{ not json')).to.throw(/app\.json is invalid/);
    expect(() => resolveEnv(readManifest({}), { 'no good': 'x' })).to.throw();
  });
});
