import { expect } from 'chai';
import {
  buildScripts,
  defaultWebCommand,
  dependencyFingerprint,
  packageJsonProblem,
} from './package-json.js';

describe('nodejs buildpack: package.json rules', () => {
  it('accepts a usual package.json and rejects wrong shapes with the field named', () => {
    expect(
      packageJsonProblem({ name: 'a', dependencies: { x: '^1' }, scripts: { start: 'node .' } }),
    ).to.equal(undefined);
    expect(packageJsonProblem([])).to.include('JSON object');
    expect(packageJsonProblem('x')).to.include('JSON object');
    expect(packageJsonProblem({ dependencies: ['x'] })).to.include('"dependencies" must be an object');
    expect(packageJsonProblem({ engines: { node: 20 } })).to.include('"engines.node" must be a string');
    expect(packageJsonProblem({ packageManager: 9 })).to.include('packageManager');
  });

  it('runs heroku-postbuild instead of build, with prebuild and cleanup around them', () => {
    expect(buildScripts({ scripts: { build: 'tsc' } })).to.deep.equal({ build: 'build' });
    expect(buildScripts({ scripts: { build: 'tsc', 'heroku-postbuild': 'x' } })).to.deep.equal({
      build: 'heroku-postbuild',
    });
    expect(buildScripts({ scripts: { 'heroku-prebuild': 'a', 'heroku-cleanup': 'b' } })).to.deep.equal({
      prebuild: 'heroku-prebuild',
      cleanup: 'heroku-cleanup',
    });
    expect(buildScripts({})).to.deep.equal({});
  });

  it('defaults web to npm start, else node server.js, else nothing', () => {
    expect(defaultWebCommand({ scripts: { start: 'node app.js' } }, true)).to.equal('npm start');
    expect(defaultWebCommand({}, true)).to.equal('node server.js');
    expect(defaultWebCommand({ scripts: { build: 'x' } }, false)).to.equal(undefined);
  });

  it('fingerprints dependency fields, not the rest of package.json', () => {
    const base = { name: 'a', version: '1.0.0', dependencies: { x: '^1' } };
    expect(dependencyFingerprint(base)).to.equal(dependencyFingerprint({ ...base, version: '2.0.0' }));
    expect(dependencyFingerprint(base)).not.to.equal(
      dependencyFingerprint({ ...base, dependencies: { x: '^2' } }),
    );
    expect(dependencyFingerprint(base)).not.to.equal(
      dependencyFingerprint({ ...base, devDependencies: { y: '1' } }),
    );
  });
});
