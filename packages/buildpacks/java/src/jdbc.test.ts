/** The JDBC profile script, sourced by real bash as a dyno does, against Heroku's documented forms. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { JDBC_PROFILE } from './jdbc.js';

const execFileP = promisify(execFile);

async function dynoEnv(vars: Record<string, string>): Promise<Record<string, string>> {
  const { stdout } = await execFileP('bash', ['-c', `${JDBC_PROFILE}\nenv -0`], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...vars },
  });
  return Object.fromEntries(
    stdout
      .split('\0')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('java buildpack: JDBC variables at dyno start', () => {
  it('derives JDBC_DATABASE_* and SPRING_DATASOURCE_* from DATABASE_URL as Heroku does', async () => {
    const env = await dynoEnv({ DATABASE_URL: 'postgres://u1:p2@db.example:5433/app_db' });
    expect(env).to.include({
      JDBC_DATABASE_URL: 'jdbc:postgresql://db.example:5433/app_db?user=u1&password=p2&sslmode=require',
      JDBC_DATABASE_USERNAME: 'u1',
      JDBC_DATABASE_PASSWORD: 'p2',
      SPRING_DATASOURCE_URL: 'jdbc:postgresql://db.example:5433/app_db?user=u1&password=p2&sslmode=require',
      SPRING_DATASOURCE_USERNAME: 'u1',
      SPRING_DATASOURCE_PASSWORD: 'p2',
    });
  });

  it('keeps what the app set, honours DISABLE_SPRING_DATASOURCE_URL and does attachments', async () => {
    const own = await dynoEnv({ DATABASE_URL: 'postgres://u:p@h:1/d', JDBC_DATABASE_URL: 'jdbc:mine' });
    expect(own.JDBC_DATABASE_URL).to.equal('jdbc:mine');
    const off = await dynoEnv({
      DATABASE_URL: 'postgres://u:p@h:1/d',
      DISABLE_SPRING_DATASOURCE_URL: 'true',
    });
    expect(off).to.not.have.property('SPRING_DATASOURCE_URL');
    const color = await dynoEnv({ HEROKU_POSTGRESQL_RED_URL: 'postgres://r:s@h:2/e?application_name=x' });
    expect(color).to.include({
      HEROKU_POSTGRESQL_RED_JDBC_URL:
        'jdbc:postgresql://h:2/e?application_name=x&user=r&password=s&sslmode=require',
      HEROKU_POSTGRESQL_RED_JDBC_USERNAME: 'r',
    });
    const none = await dynoEnv({});
    expect(none).to.not.have.property('JDBC_DATABASE_URL');
  });
});
