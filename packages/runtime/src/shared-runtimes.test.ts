/**
 * The platform's Node.js shared by every app's slug (shared-runtimes.ts), through a real
 * platform, real builds as each app's uid and real dynos: two apps' builds use the one packed
 * member of the machine's store (the second packs nothing: the store's file is the same file,
 * untouched), each dyno runs the Node.js and npm its slug carries at `.heroku/node` (unpacked as
 * hard links to the store's, root's files), and an app
 * whose build script tries to change the shared runtime or the store is refused, the other
 * app's slug unaffected.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  memberFile,
  platformNodeMember,
  sharedMembers,
  sharedNodeDir,
  sharedRuntimeStore,
} from '@slipway/core';
import { expect } from 'chai';
import { packDir } from './demo.js';
import { type Platform, startPlatform } from './platform.js';
import { apiCaller, eventually, nodeOnlyConfig, routerGet } from './platform-harness.test-helper.js';

const SERVER = `require('node:http').createServer((q, s) => {
  const fs = require('node:fs');
  const attack = fs.existsSync(__dirname + '/attack.txt') ? fs.readFileSync(__dirname + '/attack.txt', 'utf8') : '';
  const npm = require('node:child_process').execFileSync('npm', ['--version']).toString().trim();
  s.end(JSON.stringify({ node: process.execPath, version: process.version, npm, attack }));
}).listen(process.env.PORT);
`;

/** A build script that tries to change the platform's runtime, its packed member and its store. */
const ATTACK = [
  'try() { if sh -c "$1" 2>/dev/null; then echo "WROTE $2"; else echo "refused $2"; fi; }',
  'n="$(readlink .heroku/node)"',
  'echo "target $n"',
  'try "echo mine > own.txt" own',
  'try "echo pwned >> $n/bin/node" node',
  'try "echo pwned > $n/../../../member.gz" member',
  'try "mkdir $n/../../../../evil" store',
  'try "rm -f $n/bin/npm" npm',
].join('; ');

describe('the platform Node.js shared by all apps (one member per machine)', function () {
  this.timeout(300_000);
  let dir: string;
  let platform: Platform | undefined;
  const api = apiCaller(() => platform as Platform);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-shared-node-'));
    await chmod(dir, 0o755);
    platform = await startPlatform({
      dataDir: join(dir, 'data'),
      routerPort: 0,
      apiPort: 0,
      configFile: await nodeOnlyConfig(dir),
    });
  });
  after(async () => {
    await platform?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Build `app` from a small Node app (with `build` as its build script) and wait for its end. */
  async function deploy(app: string, build?: string) {
    const src = await mkdtemp(join(dir, `src-${app}-`));
    await writeFile(join(src, 'server.js'), SERVER);
    await writeFile(
      join(src, 'package.json'),
      JSON.stringify({ name: app, version: '1.0.0', scripts: { ...(build ? { build } : {}) } }),
    );
    await writeFile(join(src, 'Procfile'), 'web: node server.js\n');
    const tgz = await readFile(await packDir(src));
    expect((await api('POST', '/apps', { name: app })).status).to.equal(201);
    const p = platform as Platform;
    const r = await fetch(new URL(`/apps/${app}/builds`, p.apiUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${p.token}` },
      body: tgz,
    });
    let b = (await r.json()) as { id: string; status: string; error?: string };
    for (let i = 0; i < 900 && b.status === 'pending'; i++) {
      await new Promise((res) => setTimeout(res, 200));
      b = (await api('GET', `/apps/${app}/builds/${b.id}`)).json;
    }
    expect(b.status, b.error).to.equal('succeeded');
    const out = await fetch(new URL(`/apps/${app}/builds/${b.id}/output`, p.apiUrl), {
      headers: { authorization: `Bearer ${p.token}` },
    });
    return out.text();
  }

  /** What the app's web dyno says through the router. */
  async function served(app: string) {
    let body = '';
    const ok = await eventually(async () => {
      const r = await routerGet((platform as Platform).routerPort, app).catch(() => ({
        status: 0,
        body: '',
      }));
      body = r.body;
      return r.status === 200;
    }, 60_000);
    expect(ok, body).to.equal(true);
    return JSON.parse(body) as { node: string; version: string; npm: string; attack: string };
  }

  it("both apps' slugs carry the one shared member, and a build script cannot change it", async () => {
    const member = await platformNodeMember();
    if (!member) {
      if (process.env.CI === 'true') throw new Error("CI's Node.js must be shareable (an official build)");
      console.warn("      ⚠ this machine's Node.js is not a portable build: nothing to share, skipped");
      return;
    }
    expect(dirname(member.dir)).to.equal(sharedRuntimeStore());
    const file = memberFile(member);
    const before = await stat(file);
    const hostNpm = JSON.parse(
      await readFile(join(sharedNodeDir(member), 'lib/node_modules/npm/package.json'), 'utf8'),
    ).version as string;

    // The attacker builds first: what it tried is in its slug (attack.txt), for its dyno to say.
    const attackLog = await deploy('attacker', `(${ATTACK}) > attack.txt`);
    const victimLog = await deploy('victim');
    for (const log of [attackLog, victimLog]) {
      expect(log).to.include("Used the platform's packed .heroku/node");
      expect(log).to.not.include('Packed .heroku/node');
    }
    const attacker = await served('attacker');
    // It could write its own files, and aimed at the store's very runtime.
    expect(attacker.attack.trim().split('\n')).to.deep.equal([
      `target ${sharedNodeDir(member)}`,
      'WROTE own',
      'refused node',
      'refused member',
      'refused store',
      'refused npm',
    ]);
    // The victim runs the platform's very Node.js and npm from its own slug.
    const victim = await served('victim');
    expect(victim).to.include({ version: process.version, npm: hostNpm });
    expect(victim.node).to.match(/\/\.heroku\/node\/bin\/node$/);

    // Each app's unpacked slug links the store's runtime (its files stay root's), not a copy.
    const storeNode = await stat(join(sharedNodeDir(member), 'bin/node'));
    for (const app of ['attacker', 'victim']) {
      const root = join((await readFile(join(dir, 'data', 'runtime-dir'), 'utf8')).trim(), 'apps', app);
      const slugs = join(root, existsSync(join(root, 'sandbox-slugs')) ? 'sandbox-slugs' : 'slugs');
      const [unpacked] = (await readdir(slugs)).filter((n) => !n.startsWith('.'));
      const st = await stat(join(slugs, unpacked as string, '.heroku/node/bin/node'));
      expect([st.ino, st.uid], app).to.deep.equal([storeNode.ino, 0]);
    }

    // One entry for this Node.js, its member the same file as before both builds, unchanged.
    const after = await stat(file);
    expect([after.ino, after.mtimeMs, after.size]).to.deep.equal([before.ino, before.mtimeMs, before.size]);
    const sha = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    expect(`sha256:${sha}`).to.equal(member.checksum);
    const same = (await sharedMembers(dirname(member.dir))).filter((m) => m.about?.node === process.version);
    expect(same.map((m) => m.dir)).to.deep.equal([member.dir]);
  });
});
