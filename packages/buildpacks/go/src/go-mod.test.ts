import { expect } from 'chai';
import { binaryName, goDirectiveRange, parseGoMod, pickWebBinary, plainGoVersion } from './go-mod.js';
import { goFailure } from './toolchain.js';

describe('go buildpack: go.mod and naming rules', () => {
  it('reads module, go, toolchain, +heroku install and goVersion, ignoring comments and requires', () => {
    const mod = parseGoMod(
      [
        '// +heroku install ./cmd/api ./cmd/worker',
        '// +heroku goVersion go1.25',
        'module github.com/acme/app/v2 // the app',
        '',
        'go 1.22.3',
        'toolchain go1.23.4',
        'require (',
        '\tgithub.com/lib/pq v1.10.9',
        ')',
      ].join('\n'),
    );
    expect(mod).to.deep.equal({
      module: 'github.com/acme/app/v2',
      go: '1.22.3',
      toolchain: '1.23.4',
      install: ['./cmd/api', './cmd/worker'],
      herokuGoVersion: '1.25',
    });
    expect(parseGoMod('')).to.deep.equal({
      module: undefined,
      go: undefined,
      toolchain: undefined,
      install: undefined,
      herokuGoVersion: undefined,
    });
  });

  it('treats the go directive as a minimum', () => {
    expect(goDirectiveRange('1.22')).to.equal('>=1.22.0');
    expect(goDirectiveRange('1.22.3')).to.equal('>=1.22.3');
    expect(goDirectiveRange('1.23rc1')).to.equal('>=1.23.0');
    expect(goDirectiveRange(undefined)).to.equal(undefined);
    expect(goDirectiveRange('latest')).to.equal('invalid');
    expect(plainGoVersion('go1.26.8')).to.equal('1.26.8');
  });

  it('names binaries as go build -o dir/ does and picks the web one', () => {
    expect(binaryName('github.com/acme/app')).to.equal('app');
    expect(binaryName('github.com/acme/app/v2')).to.equal('app');
    expect(binaryName('github.com/acme/app/cmd/worker')).to.equal('worker');
    expect(pickWebBinary('github.com/acme/app', ['app', 'worker'])).to.equal('app');
    expect(pickWebBinary('github.com/acme/app', ['api'])).to.equal('api');
    expect(pickWebBinary('github.com/acme/app', ['web', 'worker'])).to.equal('web');
    expect(pickWebBinary('github.com/acme/app', ['a', 'b'])).to.equal(undefined);
  });

  it('classifies go failures by their most telling line', () => {
    expect(goFailure('# example.com/x\n./main.go:6:14: undefined: y\n')).to.deep.equal({
      kind: 'compile',
      line: './main.go:6:14: undefined: y',
    });
    const mod = goFailure('go: example.com/m@v1.0.0: reading https://proxy.golang.org/x: 404 Not Found\n');
    expect(mod.kind).to.equal('module');
    expect(goFailure('go: something else\n')).to.deep.equal({ kind: 'other', line: 'go: something else' });
  });
});
