import { expect } from 'chai';
import { dependencySource, pipInstallArgs, referencedRequirementFiles } from './dependencies.js';
import { interpreterCandidates, parsePythonRequest } from './python-runtime.js';

describe('python version request', () => {
  it('reads .python-version before runtime.txt before requires-python, skipping comments', () => {
    expect(parsePythonRequest('# pinned\n3.12\n', 'python-3.11.7')).to.deep.equal({
      version: '3.12',
      file: '.python-version',
    });
    expect(parsePythonRequest(undefined, 'python-3.11.7\n')).to.deep.equal({
      version: '3.11.7',
      file: 'runtime.txt',
    });
    expect(parsePythonRequest('\n', undefined)).to.equal(undefined);
    expect(parsePythonRequest(undefined, undefined, '[project]\nrequires-python = ">=3.10"\n')).to.deep.equal(
      {
        version: '>=3.10',
        file: 'pyproject.toml',
      },
    );
  });

  it('tries the most specific interpreter name first', () => {
    expect(interpreterCandidates({ version: '3.12.1', file: 'runtime.txt' })).to.deep.equal([
      'python3.12',
      'python3',
      'python',
    ]);
    expect(interpreterCandidates(undefined)).to.deep.equal(['python3', 'python']);
  });
});

describe('python dependency manifests', () => {
  it('prefers requirements.txt, then pyproject.toml, then setup.py', () => {
    expect(dependencySource(new Set(['setup.py', 'requirements.txt']))).to.equal('requirements.txt');
    expect(dependencySource(new Set(['setup.py', 'pyproject.toml']))).to.equal('pyproject.toml');
    expect(dependencySource(new Set(['setup.py']))).to.equal('setup.py');
    expect(dependencySource(new Set())).to.equal(undefined);
  });

  it('follows -r and -c includes so the digest covers them', () => {
    expect(
      referencedRequirementFiles('-r base.txt\n--constraint=c.txt\nflask\n-r https://x/y.txt\n'),
    ).to.deep.equal(['base.txt', 'c.txt']);
  });

  it('installs the project itself for pyproject/setup.py apps', () => {
    expect(pipInstallArgs('requirements.txt', '/t').slice(-2)).to.deep.equal(['-r', 'requirements.txt']);
    expect(pipInstallArgs('pyproject.toml', '/t', ['--no-deps']).slice(-2)).to.deep.equal(['--no-deps', '.']);
  });
});
