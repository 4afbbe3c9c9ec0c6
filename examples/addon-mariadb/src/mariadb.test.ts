/**
 * The provider as it is deployed: a separate process serving the partner API, with its own
 * mariadbd. Checked with the SDK's conformance kit (remote mode, bad credentials included), then
 * consumed by a platform kernel through its manifest (`remoteAddon`), and used by real clients
 * (mysql2 and the `mariadb` CLI): tables, isolation between add-ons, plan limits, deprovision
 * and a restart of the service.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type AddonManifest,
  describeConformance,
  Kernel,
  type ProvisionResult,
  type RemoteAddonPlugin,
  remoteAddon,
} from '@slipway/addon-sdk';
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import { mariadbInstalled, type Service, startService } from './testing/service.js';

const execFileP = promisify(execFile);

describe('addon-mariadb: remote service with a real MariaDB', function () {
  this.timeout(180_000);
  const password = randomBytes(18).toString('base64url');
  let work: string;
  let service: Service | undefined;
  let manifest: AddonManifest;

  before(async function () {
    if (!(await mariadbInstalled())) {
      const why = 'MariaDB is not installed (apt-get install mariadb-server mariadb-client)';
      if (process.env.CI === 'true') throw new Error(why);
      console.warn(`\n  !!! SKIPPING the MariaDB add-on tests: ${why}\n`);
      this.skip();
    }
    work = await mkdtemp(join(tmpdir(), 'slipway-mariadb-'));
    const started = Date.now();
    service = await startService(
      ['--port', '0', '--data-dir', join(work, 'data'), '--manifest-out', join(work, 'manifest.json')],
      password,
    );
    console.log(
      `      service + mariadbd first start (initdb): ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    manifest = JSON.parse(await readFile(join(work, 'manifest.json'), 'utf8')) as AddonManifest;
  });

  after(async () => {
    if (service) expect(await service.stop()).to.equal(0);
    if (work) await rm(work, { recursive: true, force: true });
  });

  describeConformance(() => ({ url: service!.url, manifest, password }), {
    title: 'conformance kit (remote, over the partner API)',
    kind: 'remote',
    optionalConfigVars: true,
  });

  describe('consumed by a platform kernel through its manifest', () => {
    let kernel: Kernel;
    let plugin: RemoteAddonPlugin;
    const provisioned: { uuid: string; r: ProvisionResult }[] = [];

    const provision = async (app: string, name = '', plan = '', options: Record<string, unknown> = {}) => {
      const uuid = randomUUID();
      const r = await kernel.hooks.provision
        .for('mariadb')
        .promise({ service: 'mariadb', uuid, plan, app, name, options });
      if (!r) throw new Error('no provision result');
      provisioned.push({ uuid, r });
      return { uuid, r };
    };
    const deprovision = (uuid: string, r: ProvisionResult) =>
      kernel.hooks.deprovision.for('mariadb').promise({ service: 'mariadb', uuid, id: r.id, app: 'x' });
    /** An admin connection through the server's unix socket, to see what the provider left behind. */
    const admin = async () => {
      const dir = join(work, 'data', 'addons', 'mariadb', 'server');
      const rec = JSON.parse(await readFile(join(dir, 'server.json'), 'utf8')) as { adminPassword: string };
      return mysql.createConnection({
        socketPath: join(dir, 'run', 'mariadbd.sock'),
        user: 'slipway_admin',
        password: rec.adminPassword,
      });
    };

    before(async () => {
      kernel = new Kernel();
      // The platform has the manifest (URL included) and is given the partner password separately.
      plugin = remoteAddon({ manifest, password });
      await kernel.use(plugin);
    });
    after(async () => {
      for (const { uuid, r } of provisioned) await deprovision(uuid, r).catch(() => {});
      await plugin.close();
    });

    it('registers the add-on with its plans and config vars from the manifest', () => {
      const entry = kernel.catalog.addons.get('mariadb');
      expect(entry?.plans.map((p) => p.name)).to.deep.equal(['mini', 'basic', 'standard']);
      expect(entry?.configVars).to.deep.equal(['MARIADB_URL', 'DATABASE_URL']);
    });

    it('gives a JawsDB-style URL, renamed by attachment, and DATABASE_URL only when asked', async () => {
      const plain = await provision('shop', 'SECONDARY');
      expect(Object.keys(plain.r.config)).to.deep.equal(['SECONDARY_URL']);
      // As Heroku's CLI sends `addons:create mariadb --as PRIMARY -- --database_url`.
      const { r } = await provision('shop', 'PRIMARY', '', { database_url: 'true' });
      expect(Object.keys(r.config).sort()).to.deep.equal(['DATABASE_URL', 'PRIMARY_URL']);
      expect(r.config.DATABASE_URL).to.equal(r.config.PRIMARY_URL);
      const u = new URL(r.config.PRIMARY_URL!);
      expect(u.protocol).to.equal('mysql:');
      expect(u.hostname).to.equal('127.0.0.1');
      expect(u.pathname).to.match(/^\/db_[0-9a-f]{16}$/);
      expect(u.password.length).to.be.at.least(24);
    });

    it('lets mysql2 create, insert and read with the URL; another add-on cannot open the database', async () => {
      const a = (await provision('shop')).r.config.MARIADB_URL!;
      const b = (await provision('blog')).r.config.MARIADB_URL!;
      expect(new URL(a).password).not.to.equal(new URL(b).password);
      const ca = await mysql.createConnection(a);
      try {
        await ca.query('CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, item VARCHAR(50) NOT NULL)');
        await ca.query('INSERT INTO orders (item) VALUES (?), (?)', ['kettle', 'teapot']);
        const [rows] = await ca.query('SELECT item FROM orders ORDER BY id');
        expect((rows as { item: string }[]).map((x) => x.item)).to.deep.equal(['kettle', 'teapot']);
      } finally {
        await ca.end();
      }
      const dbA = new URL(a).pathname.slice(1);
      const other = new URL(b);
      other.pathname = `/${dbA}`;
      const err = await mysql.createConnection(other.toString()).then(
        async (c) => {
          await c.end();
          return undefined;
        },
        (e: { code?: string; message: string }) => e,
      );
      expect(err?.code).to.equal('ER_DBACCESS_DENIED_ERROR');
      const cb = await mysql.createConnection(b);
      try {
        const [dbs] = await cb.query('SHOW DATABASES');
        expect((dbs as { Database: string }[]).map((d) => d.Database)).not.to.include(dbA);
        const denied = await cb.query(`SELECT * FROM \`${dbA}\`.orders`).then(
          () => undefined,
          (e: { code?: string }) => e.code,
        );
        expect(denied).to.equal('ER_TABLEACCESS_DENIED_ERROR');
      } finally {
        await cb.end();
      }
    });

    it('works with the mariadb command-line client too', async () => {
      const u = new URL((await provision('cli')).r.config.MARIADB_URL!);
      const args = ['-h', u.hostname, '-P', u.port, '-u', u.username, '-N', '-B', u.pathname.slice(1)];
      const sql = "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('from the cli'); SELECT v FROM t;";
      const { stdout } = await execFileP('mariadb', [...args, '-e', sql], {
        env: { ...process.env, MYSQL_PWD: decodeURIComponent(u.password) },
      });
      expect(stdout.trim()).to.equal('from the cli');
    });

    it('applies the plan as the connection limit, and a plan change alters it in place', async () => {
      const { uuid, r } = await provision('limits', '', 'mini');
      const limit = async () => {
        const c = await admin();
        try {
          const user = new URL(r.config.MARIADB_URL!).username;
          const [rows] = await c.query(
            "SELECT max_user_connections AS n FROM mysql.user WHERE User = ? AND Host = '%'",
            [user],
          );
          return Number((rows as { n: number }[])[0]?.n);
        } finally {
          await c.end();
        }
      };
      expect(await limit()).to.equal(10);
      const changed = await kernel.hooks.planChange
        .for('mariadb')
        .promise({ service: 'mariadb', uuid, id: r.id, app: 'limits', plan: 'standard' });
      expect(changed?.config.MARIADB_URL ?? r.config.MARIADB_URL).to.equal(r.config.MARIADB_URL);
      expect(await limit()).to.equal(100);
    });

    it('deprovision drops the database and the user, and ends their open sessions', async () => {
      const { uuid, r } = await provision('gone');
      const url = r.config.MARIADB_URL!;
      const u = new URL(url);
      const open = await mysql.createConnection(url);
      open.on('error', () => {});
      await open.query('CREATE TABLE t (x INT)');
      await deprovision(uuid, r);
      const stillOpen = await open.query('SELECT 1').then(
        () => true,
        () => false,
      );
      expect(stillOpen, 'the open session was ended').to.equal(false);
      open.destroy();
      const err = await mysql.createConnection(url).then(
        async (c) => {
          await c.end();
          return undefined;
        },
        (e: { code?: string }) => e.code,
      );
      // A dropped user is refused; MariaDB may answer before the password exchange, which mysql2
      // reports as ER_ACCESS_DENIED_NO_PASSWORD_ERROR. Either way the connection is denied.
      expect(err).to.be.oneOf(['ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR']);
      const c = await admin();
      try {
        const [dbs] = await c.query('SHOW DATABASES LIKE ?', [u.pathname.slice(1)]);
        expect(dbs).to.have.length(0);
        const [users] = await c.query('SELECT User FROM mysql.user WHERE User = ?', [u.username]);
        expect(users).to.have.length(0);
      } finally {
        await c.end();
      }
    });

    it('keeps databases, port and credentials across a restart of the service', async () => {
      const { r } = await provision('durable');
      const url = r.config.MARIADB_URL!;
      const c1 = await mysql.createConnection(url);
      await c1.query('CREATE TABLE kept (v VARCHAR(20))');
      await c1.query("INSERT INTO kept VALUES ('still here')");
      await c1.end();
      const pidFile = join(work, 'data', 'addons', 'mariadb', 'server', 'run', 'mariadbd.pid');
      const pid = Number(await readFile(pidFile, 'utf8'));
      expect(await service!.stop()).to.equal(0);
      const alive = (() => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      })();
      expect(alive, 'mariadbd stopped with the service').to.equal(false);
      const port = new URL(service!.url).port;
      service = await startService(['--port', port, '--data-dir', join(work, 'data')], password);
      const c2 = await mysql.createConnection(url);
      try {
        const [rows] = await c2.query('SELECT v FROM kept');
        expect(rows).to.deep.equal([{ v: 'still here' }]);
      } finally {
        await c2.end();
      }
    });
  });
});
