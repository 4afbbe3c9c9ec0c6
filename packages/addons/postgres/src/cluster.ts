/**
 * One PostgreSQL cluster the provider owns: created with initdb under the provider's data dir,
 * run as a supervised `postgres` on a fixed loopback port (kept in `cluster.json`, because the
 * apps' DATABASE_URL carry it), reached by an admin role whose password never leaves that file.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ProviderLog, Supervised, SuperviseOptions, Unprivileged } from '@slipway/addon-sdk';
import { connectHost, freePort, portIsFree, selfSignedCertificate, stopLeftover } from '@slipway/addon-sdk';
import pg from 'pg';
import type { PgBinaries } from './binaries.js';
import { postgresErrors } from './errors.js';

const run = promisify(execFile);

/** What is remembered about a cluster. */
export interface ClusterMeta {
  port: number;
  adminUser: string;
  adminPassword: string;
  listen: string;
  createdAt: string;
}

/** What a cluster needs from its provider. */
export interface ClusterEnv {
  bins: PgBinaries;
  /** Who runs initdb and postgres (the SDK's `ctx.runAs`: an unprivileged user when root). */
  runAs: Unprivileged;
  log: ProviderLog;
  secret(bytes?: number): string;
  supervise(opts: SuperviseOptions): Promise<Supervised>;
  /** Address the server listens on (default 127.0.0.1). */
  listen?: string;
}

const ADMIN = 'slipway_admin';

/** A cluster directory: `<dir>/cluster.json` and `<dir>/pgdata`. */
export class Cluster {
  private meta: ClusterMeta | undefined;
  private child: Supervised | undefined;
  readonly pgdata: string;

  constructor(
    readonly dir: string,
    private readonly env: ClusterEnv,
  ) {
    this.pgdata = join(dir, 'pgdata');
  }

  /** The cluster's metadata (only after `create` or `load`). */
  get info(): ClusterMeta {
    if (!this.meta) throw new Error(`cluster ${this.dir} is not loaded`);
    return this.meta;
  }

  /** True when the supervised postmaster is running. */
  get running(): boolean {
    return !!this.child?.pid;
  }

  /** Read cluster.json; false when the cluster was never (completely) created. */
  async load(): Promise<boolean> {
    try {
      this.meta = JSON.parse(await readFile(join(this.dir, 'cluster.json'), 'utf8')) as ClusterMeta;
      return true;
    } catch {
      return false;
    }
  }

  /** initdb a new cluster; on failure nothing is left behind. */
  async create(): Promise<void> {
    const { runAs, bins } = this.env;
    const user = runAs.user?.name ?? 'the platform user';
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.pgdata, { recursive: true, mode: 0o700 });
    try {
      await runAs.own(this.dir);
      await runAs.prepareDir(this.pgdata, { mode: 0o700 });
      const password = this.env.secret(24);
      const pwfile = join(this.dir, '.pwfile');
      await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
      await runAs.own(pwfile);
      const { command, args } = runAs.wrap(bins.tool('initdb'), [
        '-D',
        this.pgdata,
        '-U',
        ADMIN,
        `--pwfile=${pwfile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
        // initdb's final fsync of ~1,000 files takes seconds on a busy disk; the server's first
        // checkpoint makes the cluster durable anyway, and a cluster lost before that holds no data.
        '--no-sync',
      ]);
      try {
        await run(command, args, { cwd: this.dir, maxBuffer: 4 * 1024 * 1024 });
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw postgresErrors.SLIPWAY_ERR_POSTGRES_INITDB({
          dir: this.pgdata,
          user,
          detail: (err.stderr || err.message).trim().split('\n').slice(-3).join(' '),
        });
      } finally {
        await rm(pwfile, { force: true });
      }
      const listen = this.env.listen ?? '127.0.0.1';
      const port = await freePort(connectHost(listen));
      // Loopback TCP only: no Unix socket directory to create or share with the server user.
      const conf = [
        '',
        '# --- slipway',
        `listen_addresses = '${listen}'`,
        `port = ${port}`,
        "unix_socket_directories = ''",
        'shared_buffers = 32MB',
        // Startup, checkpoint and shutdown chatter would fill the platform log; problems still show.
        'log_min_messages = warning',
        'max_connections = 100',
        "password_encryption = 'scram-sha-256'",
        '',
      ].join('\n');
      await writeFile(join(this.pgdata, 'postgresql.conf'), conf, { flag: 'a' });
      if (listen !== '127.0.0.1')
        await writeFile(join(this.pgdata, 'pg_hba.conf'), 'host all all 0.0.0.0/0 scram-sha-256\n', {
          flag: 'a',
        });
      const meta: ClusterMeta = {
        port,
        adminUser: ADMIN,
        adminPassword: password,
        listen,
        createdAt: new Date().toISOString(),
      };
      await this.ensureTls();
      // Written last: its presence means the cluster is complete.
      await writeFile(join(this.dir, 'cluster.json'), `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
      this.meta = meta;
    } catch (e) {
      await rm(this.dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Where the platform connects: the listen address (loopback when it listens on all). */
  get adminHost(): string {
    return connectHost(this.info.listen ?? '127.0.0.1');
  }

  /**
   * TLS as Heroku Postgres offers it (clients connect with `sslmode=require`): a self-signed
   * certificate made once with openssl in the data dir (`server.crt`/`server.key`, the key
   * readable by the server's user only) and `ssl = on`. Plain connections stay allowed, as
   * `DATABASE_URL` carries no sslmode. Idempotent: a cluster that has them is left alone.
   */
  async ensureTls(): Promise<void> {
    const crt = join(this.pgdata, 'server.crt');
    const key = join(this.pgdata, 'server.key');
    const conf = join(this.pgdata, 'postgresql.conf');
    try {
      if (await selfSignedCertificate(crt, key, 'slipway-postgres')) {
        await this.env.runAs.own(key);
        await this.env.runAs.own(crt);
      }
    } catch (e) {
      throw postgresErrors.SLIPWAY_ERR_POSTGRES_TLS(
        { dir: this.pgdata, detail: (e as Error).message },
        { cause: e },
      );
    }
    if (!/^ssl\s*=\s*on\b/m.test(await readFile(conf, 'utf8')))
      await writeFile(
        conf,
        "\n# --- slipway tls\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
        {
          flag: 'a',
        },
      );
  }

  /** Admin connection settings for database `db`. */
  adminConfig(db = 'postgres'): pg.ClientConfig {
    const m = this.info;
    return {
      host: this.adminHost,
      port: m.port,
      user: m.adminUser,
      password: m.adminPassword,
      database: db,
      connectionTimeoutMillis: 5000,
    };
  }

  /** Start the postmaster under supervision and wait until it accepts the admin role. */
  async start(): Promise<void> {
    if (this.child) return;
    const m = this.info;
    await this.stopStale();
    if (!(await portIsFree(m.port, this.adminHost)))
      throw postgresErrors.SLIPWAY_ERR_POSTGRES_PORT_BUSY({ port: m.port, dir: this.dir });
    // A parent may have lost its search bit since the cluster was made (a restored backup, chmod).
    await this.env.runAs.prepareDir(this.pgdata);
    // Clusters made before TLS existed get their certificate on this start.
    await this.ensureTls();
    const { command, args } = this.env.runAs.wrap(this.env.bins.tool('postgres'), ['-D', this.pgdata]);
    this.child = await this.env.supervise({
      name: `postgres:${m.port}`,
      command,
      args,
      cwd: this.dir,
      ready: () => this.ping(),
      readyTimeoutMs: 60_000,
      // SIGTERM is PostgreSQL's "smart" shutdown, which waits for clients; do not wait long.
      stopGraceMs: 3000,
      // SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to disconnect.
      stopSignal: 'SIGINT',
      stderrLevel: pgLogLevel,
    });
    this.env.log.info(`PostgreSQL cluster ${this.dir} is up on ${this.adminHost}:${m.port}`);
  }

  /** True when the admin role can run a query. */
  async ping(): Promise<boolean> {
    const c = new pg.Client({ ...this.adminConfig(), connectionTimeoutMillis: 1000 });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => {});
    }
  }

  /** Stop the postmaster (its data stays). */
  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    await c?.stop();
  }

  /** Stop and delete the cluster with its data. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /**
   * A postmaster left running by a platform that died without cleaning up still holds the data
   * dir; ask it to shut down fast (SIGINT) before starting ours.
   */
  private async stopStale(): Promise<void> {
    await stopLeftover({
      pidFile: join(this.pgdata, 'postmaster.pid'),
      match: ['postgres', this.pgdata],
      name: 'postmaster',
      signal: 'SIGINT',
      warn: (m) => this.env.log.warn(m),
    });
  }
}

/**
 * PostgreSQL writes its whole server log to stderr; only WARNING and worse are warnings
 * (`LOG:` lines such as "database system is ready" are its ordinary news).
 */
export function pgLogLevel(line: string): 'info' | 'warn' {
  return /\b(WARNING|ERROR|FATAL|PANIC):\s/.test(line) ? 'warn' : 'info';
}
