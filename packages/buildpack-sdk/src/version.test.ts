import { expect } from 'chai';
import { requireVersion } from './version.js';

describe('requireVersion', () => {
  const ok: [string, string][] = [
    ['20', 'v20.11.1'],
    ['20.x', '20.0.0'],
    ['>=18 <21', '18.19.0'],
    ['3.11', '3.11.9'],
    ['17', '17.0.9+9'],
    ['^1.22', 'go1.22.3'],
    ['v20', '20.1.0'],
    ['~3.12.1', '3.12.4'],
    ['>=3.11,<3.13', '3.12.1'],
    ['==3.12.*', 'Python 3.12.7'],
    ['~=3.11', '3.13.0'],
    ['1.8', '1.8.0_392'],
  ];
  for (const [constraint, installed] of ok)
    it(`accepts ${installed} for "${constraint}"`, () => {
      expect(requireVersion('tool', constraint, installed)).to.equal(installed);
    });

  it('accepts anything when the app asks for nothing', () => {
    expect(requireVersion('node', undefined, '20.1.0')).to.equal('20.1.0');
    expect(requireVersion('node', '  ', '20.1.0')).to.equal('20.1.0');
  });

  it('says what is installed, what is asked and what to change', () => {
    try {
      requireVersion('Node.js', '>=22', 'v20.11.1');
      expect.fail('should throw');
    } catch (e) {
      const err = e as { code: string; message: string; hint: string };
      expect(err.code).to.equal('SLIPWAY_ERR_BUILDPACK_VERSION');
      expect(err.message).to.equal(
        'Node.js v20.11.1 is installed but the app asks for >=22; change the Node.js version the app asks for or install Node.js >=22',
      );
      expect(err.hint).to.include('"20.x"');
    }
    expect(() => requireVersion('Python', '3.12', '3.11.9')).to.throw(
      /Python 3.11.9 is installed but the app asks for 3.12/,
    );
    expect(() => requireVersion('Java', '21', '17')).to.throw(/asks for 21/);
    expect(() => requireVersion('Python', '>=3.11,<3.13', '3.13.0')).to.throw(/asks for >=3.11,<3.13/);
    expect(() => requireVersion('Python', '~=3.11.2', '3.12.0')).to.throw(/asks for ~=3.11.2/);
  });

  it('rejects a constraint that is not a version', () => {
    expect(() => requireVersion('node', 'latest-ish!', '20.0.0')).to.throw(/not a version or version range/);
  });
});
