import { expect } from 'chai';
import { parseAppJson } from './app-json.js';
import { parseConfigAssignments, validateConfigVars } from './config-vars.js';
import { SlipwayError } from './errors.js';
import { parseProcfile } from './procfile.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(SlipwayError);
    return `${(e as SlipwayError).code}: ${(e as SlipwayError).message}`;
  }
  throw new Error('expected an error');
}

describe('parseProcfile', () => {
  it('reads types and commands, skipping comments and blank lines', () => {
    const text =
      '# comment\nweb: node server.js --port $PORT\n\nworker:   python worker.py\r\nrelease: ./migrate: yes\n';
    expect(parseProcfile(text)).to.deep.equal({
      web: 'node server.js --port $PORT',
      worker: 'python worker.py',
      release: './migrate: yes',
    });
  });

  it('names the line and the problem', () => {
    expect(code(() => parseProcfile('web: ok\nnot a process line'))).to.match(
      /PROCFILE_INVALID: Procfile line 2: .* is not "type: command"/,
    );
    expect(code(() => parseProcfile('we$b: ok'))).to.match(/line 1: process type "we\$b" must be/);
    expect(code(() => parseProcfile(`${'a'.repeat(129)}: ok`))).to.match(/line 1/);
    expect(code(() => parseProcfile('web:'))).to.match(/has no command/);
    expect(code(() => parseProcfile('web: a\nweb: b'))).to.match(
      /line 2: process type "web" is defined twice/,
    );
  });
});

describe('parseAppJson', () => {
  it('normalises Heroku shorthand forms', () => {
    const a = parseAppJson(
      JSON.stringify({
        name: 'demo',
        env: {
          SECRET_KEY: { description: 'x', generator: 'secret' },
          GREETING: 'hello',
          OPTIONAL: { required: false },
        },
        formation: { web: { quantity: 2, size: 'standard-1x' }, worker: {} },
        addons: ['postgres:shared', { plan: 'redis', as: 'CACHE' }],
        buildpacks: [{ url: 'heroku/nodejs' }],
        scripts: { postdeploy: 'node seed.js' },
        healthchecks: { web: [{ type: 'startup', path: '/health', attempts: 3 }] },
      }),
    );
    expect(a.env.GREETING).to.deep.equal({ value: 'hello', required: true });
    expect(a.env.SECRET_KEY).to.include({ generator: 'secret', required: true });
    expect(a.env.OPTIONAL!.required).to.equal(false);
    expect(a.formation).to.deep.equal({ web: { quantity: 2, size: 'standard-1x' }, worker: { quantity: 1 } });
    expect(a.addons).to.deep.equal([{ plan: 'postgres:shared' }, { plan: 'redis', as: 'CACHE' }]);
    expect(a.scripts.postdeploy).to.equal('node seed.js');
    expect(a.healthchecks.web![0]!.path).to.equal('/health');
  });

  it('names the field that fails the schema', () => {
    expect(code(() => parseAppJson('{ "env": { "bad-name": "x" } }'))).to.match(
      /APP_JSON_INVALID: app.json: env.bad-name must match/,
    );
    expect(code(() => parseAppJson('{ "formation": { "web": { "quantity": -1 } } }'))).to.match(
      /formation.web.quantity must be >= 0/,
    );
    expect(code(() => parseAppJson('{ "env": { "X": { "generator": "uuid" } } }'))).to.match(/env.X/);
    expect(code(() => parseAppJson('{ "addons": ["Postgres!"] }'))).to.match(/addons\[0\]/);
    expect(code(() => parseAppJson('{ "name": '))).to.match(/not valid JSON/);
    expect(code(() => parseAppJson('[]'))).to.match(/must be a JSON object/);
  });
});

describe('config vars', () => {
  it('accepts valid names and rejects - = and leading digits', () => {
    expect(validateConfigVars({ DATABASE_URL: 'x', lower_ok: 'y' })).to.deep.equal({
      DATABASE_URL: 'x',
      lower_ok: 'y',
    });
    expect(code(() => validateConfigVars({ 'MY-VAR': 'x' }))).to.match(
      /CONFIG_VAR_NAME: .*"MY-VAR".*"-" is not allowed/,
    );
    expect(code(() => validateConfigVars({ '1ST': 'x' }))).to.match(/must not start with a digit/);
    expect(code(() => parseConfigAssignments(['=x']))).to.match(/expected KEY=value/);
    // `config:set FOO` is a missing value, not a bad name.
    expect(code(() => parseConfigAssignments(['FOO']))).to.match(
      /^SLIPWAY_ERR_CONFIG_ASSIGNMENT: "FOO" is not an assignment: expected KEY=value/,
    );
    expect(parseConfigAssignments(['A=b=c', 'EMPTY='])).to.deep.equal({ A: 'b=c', EMPTY: '' });
  });

  // Issue 11: a NUL byte was accepted (and leaked the value into the logs when the dyno failed
  // to start); a 5000-character name was accepted.
  it('refuses control characters in values and over-long names, naming the var but not echoing it', () => {
    expect(code(() => validateConfigVars({ SECRET: 'abc\u0000def' }))).to.match(
      /CONFIG_VAR_VALUE: .*SECRET holds the control character \\u0000 \(at position 3\)/,
    );
    expect(code(() => validateConfigVars({ ESC: 'x\u001b[2J' }))).to.match(/CONFIG_VAR_VALUE: .*\\u001b/);
    expect(validateConfigVars({ PEM: '-----BEGIN-----\r\nabc\n\tdef' })).to.have.property('PEM');
    const long = `A${'B'.repeat(4999)}`;
    const err = code(() => validateConfigVars({ [long]: 'x' })) as string;
    expect(err).to.match(/CONFIG_VAR_NAME: .*longer than 256 characters/);
    expect(err.length).to.be.below(400);
    expect(validateConfigVars({ [`A${'B'.repeat(255)}`]: 'x' })).to.have.property(`A${'B'.repeat(255)}`);
  });

  it('enforces the 32 kB total', () => {
    expect(code(() => validateConfigVars({ BIG: 'x'.repeat(32 * 1024) }))).to.match(/CONFIG_VARS_TOO_LARGE/);
  });
});
