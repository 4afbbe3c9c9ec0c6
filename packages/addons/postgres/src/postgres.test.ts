import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type AddonPlugin,
  defineAddon,
  describeConformance,
  isAddonPlugin,
  Kernel,
  type ProvisionRequest,
  type ProvisionResult,
} from '@slipway/addon-sdk';
import { expect } from 'chai';
import pg from 'pg';
import plugin, {
  captureBackup,
  findPgBinaries,
  findServerBinDir,
  listBackups,
  type PostgresOptions,
  type PostgresState,
  pgUrl,
  postgresDataDir,
  postgresDefinition,
  psqlCommand,
  restoreBackup,
  tenantOf,
} from './index.js';

const run = promisify(execFile);

/** Skip (loudly) where PostgreSQL is not installed; fail in CI, which installs it. */
async function requirePostgres(ctx: Mocha.Context): Promise<void> {
  if (await findServerBinDir()) return;
  const why =
    'PostgreSQL server binaries (initdb, postgres) are not installed (Debian: apt-get install postgresql)';
  if (process.env.CI === 'true') throw new Error(why);
  console.warn(`\n  !!! SKIPPING Postgres add-on tests: ${why}\n`);
  ctx.skip();
}

async function query(url: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  c.on('error', () => {});
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

async function connectError(config: pg.ClientConfig): Promise<Error & { code?: string }> {
  const c = new pg.Client({ ...config, connectionTimeoutMillis: 5000 });
  c.on('error', () => {});
  try {
    await c.connect();
  } catch (e) {
    return e as Error & { code?: string };
  } finally {
    await c.end().catch(() => {});
  }
  throw new Error(`connection to ${config.database} as ${config.user} succeeded; it must be refused`);
}

function req(uuid: string, app: string, extra: Partial<ProvisionRequest> = {}): ProvisionRequest {
  return { service: 'postgres', plan: 'shared', uuid, app, name: '', options: {}, ...extra };
}

describe('addon-postgres', function () {
  this.timeout(120_000);
  let dataDir: string;
  let logs: string[];
  let provider: AddonPlugin<PostgresOptions, PostgresState>;
  let kernel: Kernel;
  let a: ProvisionResult;
  let b: ProvisionResult;

  const newKernel = async () => {
    provider = defineAddon(postgresDefinition, { log: (level, m) => logs.push(`${level}: ${m}`) });
    kernel = new Kernel();
    await kernel.use(provider, { dataDir });
    await kernel.start();
  };

  before(async function () {
    await requirePostgres(this);
    dataDir = await mkdtemp(join(tmpdir(), 'slipway-pg-test-'));
    logs = [];
    await newKernel();
    a = (await kernel.hooks.provision.for('postgres').promise(req('uuid-a', 'app-a')))!;
    b = (await kernel.hooks.provision.for('postgres').promise(req('uuid-b', 'app-b', { name: 'primary' })))!;
  });

  after(async () => {
    await provider?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('exports a defineAddon plugin with shared and dedicated plans', () => {
    expect(isAddonPlugin(plugin)).to.equal(true);
    expect(plugin.manifest.plans.map((p) => p.name)).to.deep.equal(['shared', 'dedicated']);
    expect(plugin.manifest.api.config_vars).to.deep.equal(['POSTGRES_URL', 'DATABASE_URL']);
  });

  it('sets DATABASE_URL and the attachment-named URL', () => {
    expect(Object.keys(a.config).sort()).to.deep.equal(['DATABASE_URL', 'POSTGRES_URL']);
    expect(Object.keys(b.config).sort()).to.deep.equal(['DATABASE_URL', 'PRIMARY_URL']);
    expect(a.config.DATABASE_URL).to.equal(a.config.POSTGRES_URL);
    expect(a.config.DATABASE_URL).to.match(
      /^postgres:\/\/u[0-9a-f]+:[^@]{20,}@127\.0\.0\.1:\d+\/d[0-9a-f]+$/,
    );
    expect(new URL(a.config.DATABASE_URL!).password).not.to.equal(new URL(b.config.DATABASE_URL!).password);
  });

  it('the pg driver creates, inserts and reads with DATABASE_URL', async () => {
    const url = a.config.DATABASE_URL!;
    await query(url, 'CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)');
    await query(url, 'INSERT INTO notes (body) VALUES ($1), ($2)', ['hello', 'world']);
    const r = await query(url, 'SELECT body FROM notes ORDER BY id');
    expect(r.rows.map((x) => x.body)).to.deep.equal(['hello', 'world']);
  });

  it('psql creates, inserts and reads with DATABASE_URL (and pg:psql builds the same command)', async () => {
    const url = b.config.DATABASE_URL!;
    const { stdout } = await run('psql', [
      url,
      '-v',
      'ON_ERROR_STOP=1',
      '-At',
      '-c',
      'CREATE TABLE t (x int)',
      '-c',
      'INSERT INTO t VALUES (41), (1)',
      '-c',
      'SELECT sum(x) FROM t',
    ]);
    expect(stdout.trim().split('\n').pop()).to.equal('42');
    const cmd = await psqlCommand(url);
    expect(cmd.args.join(' ')).not.to.include(new URL(url).password);
    const viaHelper = await run(cmd.command, [...cmd.args, '-At', '-c', 'SELECT count(*) FROM t'], {
      env: cmd.env,
    });
    expect(viaHelper.stdout.trim()).to.equal('2');
  });

  it('serves TLS: libpq clients with sslmode=require connect encrypted, DATABASE_URL unchanged', async () => {
    const url = a.config.DATABASE_URL!;
    expect(url).not.to.include('sslmode');
    const { stdout } = await run('psql', [
      `${url}?sslmode=require`,
      '-At',
      '-c',
      'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    ]);
    expect(stdout.trim()).to.match(/^t\|TLSv1\.[23]$/);
  });

  it('a postmaster killed with SIGKILL is restarted by the supervisor and recovers its data', async () => {
    const pidFile = join(postgresDataDir(dataDir), 'shared', 'pgdata', 'postmaster.pid');
    const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 60_000;
    let rows: unknown[] | undefined;
    while (!rows && Date.now() < deadline) {
      rows = await query(a.config.DATABASE_URL!, 'SELECT body FROM notes ORDER BY id').then(
        (r) => r.rows,
        () => undefined,
      );
      if (!rows) await new Promise((r) => setTimeout(r, 200));
    }
    expect(rows).to.deep.equal([{ body: 'hello' }, { body: 'world' }]);
  });

  it('refuses a wrong password', async () => {
    const u = new URL(a.config.DATABASE_URL!);
    u.password = 'not-the-password';
    const err = await connectError({ connectionString: u.toString() });
    expect(err.code).to.equal('28P01');
  });

  it("one add-on's role cannot open another add-on's database or the maintenance database", async () => {
    const ua = new URL(a.config.DATABASE_URL!);
    const dbB = new URL(b.config.DATABASE_URL!).pathname.slice(1);
    const base = {
      host: ua.hostname,
      port: Number(ua.port),
      user: ua.username,
      password: decodeURIComponent(ua.password),
    };
    const err = await connectError({ ...base, database: dbB });
    expect(err.code).to.equal('42501');
    expect(err.message).to.match(/permission denied for database/);
    expect((await connectError({ ...base, database: 'postgres' })).code).to.equal('42501');
  });

  it('never logs a password', () => {
    expect(logs.length).to.be.greaterThan(0);
    const all = logs.join('\n');
    for (const r of [a, b]) {
      const pw = decodeURIComponent(new URL(r.config.DATABASE_URL!).password);
      expect(all).not.to.include(pw);
    }
  });

  it('pg:backups capture and restore with pg_dump / pg_restore, kept in the data dir', async () => {
    const url = a.config.DATABASE_URL!;
    const opts = { dataDir: postgresDataDir(dataDir), databaseUrl: url };
    const b1 = await captureBackup(opts);
    expect(b1.id).to.equal('b001');
    expect(b1.file.startsWith(join(postgresDataDir(dataDir), 'backups'))).to.equal(true);
    expect(b1.size).to.be.greaterThan(0);
    await query(url, 'DELETE FROM notes');
    await query(url, 'CREATE TABLE junk (x int)');
    expect((await query(url, 'SELECT count(*)::int AS n FROM notes')).rows[0].n).to.equal(0);
    await restoreBackup(opts);
    const r = await query(url, 'SELECT body FROM notes ORDER BY id');
    expect(r.rows.map((x) => x.body)).to.deep.equal(['hello', 'world']);
    expect((await captureBackup(opts)).id).to.equal('b002');
    expect((await listBackups(opts)).map((x) => x.id)).to.deep.equal(['b001', 'b002']);
    const err = await restoreBackup({ ...opts, backup: 'b999' }).catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_POSTGRES_BACKUP_UNKNOWN');
  });

  it('keeps spare databases ready on the shared cluster; a provision takes one, still closed to others', async () => {
    const state = provider.hosts[provider.hosts.length - 1]!.ctx.state;
    const deadline = Date.now() + 60_000;
    while ((state.spares?.ready ?? 0) < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(state.spares?.ready).to.equal(2);
    const before = state.spares!.names;
    const c = (await kernel.hooks.provision.for('postgres').promise(req('uuid-c', 'app-c')))!;
    expect(before.filter((n) => !state.spares!.names.includes(n))).to.have.length(1);
    await query(c.config.DATABASE_URL!, 'CREATE TABLE t (x int)');
    const ua = new URL(a.config.DATABASE_URL!);
    const err = await connectError({
      host: ua.hostname,
      port: Number(ua.port),
      user: ua.username,
      password: decodeURIComponent(ua.password),
      database: new URL(c.config.DATABASE_URL!).pathname.slice(1),
    });
    expect(err.code).to.equal('42501');
    await kernel.hooks.deprovision
      .for('postgres')
      .promise({ service: 'postgres', uuid: 'uuid-c', app: 'app-c', id: c.id });
  });

  it('rejects an unknown plan with a coded error naming the plans', async () => {
    const err = await kernel.hooks.provision
      .for('postgres')
      .promise(req('uuid-bad', 'app-a', { plan: 'gigantic' }))
      .catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_ADDON_PLAN_UNKNOWN');
    expect(err.message).to.include('gigantic');
  });

  let d: ProvisionResult;

  it('dedicated plan: a cluster of its own on its own port', async () => {
    d = (await kernel.hooks.provision
      .for('postgres')
      .promise(req('uuid-d', 'app-d', { plan: 'dedicated' })))!;
    expect(new URL(d.config.DATABASE_URL!).port).not.to.equal(new URL(a.config.DATABASE_URL!).port);
    expect(await readdir(join(postgresDataDir(dataDir), 'dedicated'))).to.deep.equal([d.id]);
    await query(d.config.DATABASE_URL!, 'CREATE TABLE kv (k text PRIMARY KEY, v text)');
    await query(d.config.DATABASE_URL!, "INSERT INTO kv VALUES ('moved', 'yes')");
  });

  it('platform restart brings the clusters back with their data', async () => {
    await provider.close();
    const err = await connectError({ connectionString: a.config.DATABASE_URL! });
    expect(err.message).to.match(/ECONNREFUSED|terminat|shut/);
    await newKernel();
    expect((await query(a.config.DATABASE_URL!, 'SELECT count(*)::int AS n FROM notes')).rows[0].n).to.equal(
      2,
    );
    expect((await query(d.config.DATABASE_URL!, 'SELECT v FROM kv')).rows).to.deep.equal([{ v: 'yes' }]);
    // The same uuid still answers with the same resource after the restart (idempotency is persisted).
    const again = await kernel.hooks.provision.for('postgres').promise(req('uuid-a', 'app-a'));
    expect(again!.id).to.equal(a.id);
  });

  it('a plan change moves the data to the other server and keeps the id', async () => {
    const moved = (await kernel.hooks.planChange
      .for('postgres')
      .promise({ service: 'postgres', uuid: 'uuid-d', app: 'app-d', id: d.id, plan: 'shared' }))!;
    expect(moved.id).to.equal(d.id);
    expect(new URL(moved.config.DATABASE_URL!).port).to.equal(new URL(a.config.DATABASE_URL!).port);
    expect((await query(moved.config.DATABASE_URL!, 'SELECT v FROM kv')).rows).to.deep.equal([{ v: 'yes' }]);
    expect(await readdir(join(postgresDataDir(dataDir), 'dedicated'))).to.deep.equal([]);
    await kernel.hooks.deprovision
      .for('postgres')
      .promise({ service: 'postgres', uuid: 'uuid-d', app: 'app-d', id: d.id });
  });

  it('deprovision drops the database and the role; a second deprovision is a no-op', async () => {
    const dreq = { service: 'postgres', uuid: 'uuid-b', app: 'app-b', id: b.id };
    await kernel.hooks.deprovision.for('postgres').promise(dreq);
    const err = await connectError({ connectionString: b.config.DATABASE_URL! });
    expect(err.code).to.be.oneOf(['28P01', '3D000']);
    const t = tenantOf(b.id);
    const admin = (await provider.hosts[provider.hosts.length - 1]!.ctx.state.shared()).admin();
    const c = new pg.Client({ ...admin });
    await c.connect();
    try {
      expect((await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [t.database])).rowCount).to.equal(
        0,
      );
      expect((await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [t.role])).rowCount).to.equal(0);
    } finally {
      await c.end();
    }
    await kernel.hooks.deprovision.for('postgres').promise(dreq);
  });

  it('a provider that cannot reach its server fails with an error naming it, and returns no config', async () => {
    const k = new Kernel();
    const p = defineAddon(postgresDefinition, { log: () => {} });
    const dir = await mkdtemp(join(tmpdir(), 'slipway-pg-dead-'));
    try {
      await k.use(p, { dataDir: dir, adminUrl: 'postgres://admin:pw@127.0.0.1:1/postgres' });
      await k.start();
      const err = await k.hooks.provision
        .for('postgres')
        .promise(req('uuid-x', 'app-x'))
        .catch((e) => e);
      expect(err.code).to.equal('SLIPWAY_ERR_POSTGRES_ADMIN');
      expect(err.plugin).to.equal('addon-postgres');
      expect(p.hosts[0]!.find('uuid-x')).to.equal(undefined);
    } finally {
      await p.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  // Run against this suite's running cluster through `adminUrl` (the existing-server mode), so the
  // kit does not initdb a cluster of its own. The kit's idempotency check compares a repeated
  // provision with the config from before its plan change, and a move to a dedicated cluster
  // changes the URL (new port), so the kit changes plan to `shared`; the real move is tested above.
  const conformanceOptions: { adminUrl?: string } = {};
  describeConformance(
    async () => {
      const admin = (await provider.hosts[provider.hosts.length - 1]!.ctx.state.shared()).admin();
      conformanceOptions.adminUrl = pgUrl(admin);
      return plugin;
    },
    {
      title: 'conformance kit (existing server given by adminUrl)',
      plans: ['shared'],
      options: conformanceOptions,
    },
  );

  it('without binaries the platform still starts; a provision fails with a coded error naming them', async () => {
    const err = await findPgBinaries('/nonexistent/bin').catch((e) => e);
    expect(err.code).to.equal('SLIPWAY_ERR_POSTGRES_NO_BINARIES');
    expect(err.hint).to.include('apt-get install postgresql');
    const k = new Kernel();
    const seen: string[] = [];
    const p = defineAddon(postgresDefinition, { log: (_l, m) => seen.push(m) });
    const dir = await mkdtemp(join(tmpdir(), 'slipway-pg-nobin-'));
    try {
      await k.use(p, { dataDir: dir, binDir: '/nonexistent/bin' });
      await k.start();
      expect(seen.join('\n')).to.include('cannot be provisioned');
      for (const plan of ['shared', 'dedicated']) {
        const e = await k.hooks.provision
          .for('postgres')
          .promise(req(`uuid-${plan}`, 'app-x', { plan }))
          .catch((x) => x);
        expect(e.code).to.equal('SLIPWAY_ERR_POSTGRES_NO_BINARIES');
        expect(e.plugin).to.equal('addon-postgres');
      }
    } finally {
      await p.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
