/**
 * The platform on the Docker runtime, end to end through the real CLI, real builds, a real
 * engine and the real router (`slipway start --runtime docker`): an example app and a Node app
 * answer, as do the Node example (`web: npm start`) on the Node.js and npm its slug carries, the
 * Python and Java examples as they pin their versions (3.11, JDK 17: Debian bookworm's builds,
 * which trixie no longer carries, in their slugs) and a classic buildpack's app found on
 * `$HOME/bin`; a one-off dyno of app A cannot read app B's files, environment, processes or dyno
 * ports, nor the platform's data dir, database or credentials; ten deploys under continuous
 * load fail no request; a SIGKILLed platform adopts its running containers when it comes back
 * (the same containers, no second copy).
 */
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  eventually,
  fixtureCopy,
  loadGenerator,
  PlatformProcess,
  removeFixtureCopies,
} from '../platform-harness.test-helper.js';
import {
  appContainers,
  appDynoAddresses,
  dynoGateways,
  removePlatformContainers,
  requireDocker,
} from './docker-test-kit.test-helper.js';

const EXAMPLES = fileURLToPath(new URL('../../../../examples/apps', import.meta.url));
const GO_EXAMPLE = join(EXAMPLES, 'go');
const buildpack = (name: string) => fileURLToPath(new URL(`../../../buildpacks/${name}`, import.meta.url));
const addon = (name: string) => fileURLToPath(new URL(`../../../addons/${name}`, import.meta.url));

describe('platform on the docker runtime (CLI → build → containers → router)', function () {
  this.timeout(300_000);
  let dataDir: string;
  let cfgDir: string;
  let p: PlatformProcess;
  let args: string[];
  let src: string;

  before(async function () {
    await requireDocker(this, 'platform on the docker runtime');
    dataDir = await mkdtemp(join(tmpdir(), 'slipway-docker-e2e-'));
    cfgDir = await mkdtemp(join(tmpdir(), 'slipway-cfg-'));
    const cfg = join(cfgDir, 'slipway.config.json');
    await writeFile(
      cfg,
      JSON.stringify({
        defaults: false,
        plugins: [
          buildpack('nodejs'),
          buildpack('go'),
          buildpack('python'),
          buildpack('java'),
          addon('postgres'),
        ],
      }),
    );
    args = ['--config', cfg, '--runtime', 'docker', '--stop-grace', '3'];
    p = await PlatformProcess.start(dataDir, args);
    src = await fixtureCopy('hello', { VERSION: 'one' });
    await p.ok(['apps:create', 'app-a']);
    await p.ok(['deploy', src, '-a', 'app-a']);
  });
  after(async () => {
    await p?.kill('SIGTERM');
    if (dataDir) await removePlatformContainers(dataDir);
    for (const d of [dataDir, cfgDir]) if (d) await rm(d, { recursive: true, force: true });
    await removeFixtureCopies();
  });

  it('runs a Node app in a container of the stack image, answering through the router', async () => {
    expect((await p.hello('app-a')).version).to.equal('one');
    expect(await appContainers(dataDir, 'app-a')).to.have.length(1);
  });

  it('deploys the Go example (built on the host) and it answers from the trixie stack', async () => {
    await p.ok(['apps:create', 'goex']);
    expect(await p.ok(['deploy', GO_EXAMPLE, '-a', 'goex'], 240_000)).to.match(/Deployed goex v1/);
    const go = await p.get('goex');
    expect(go.status).to.equal(200);
    expect(JSON.parse(go.body)).to.include({ app: 'slipway-example-go', dyno: 'web.1' });
  });

  it('serves the Node, Python and Java examples on runtimes from their slugs, and a classic `$HOME/bin` app', async () => {
    // The examples pin Python 3.11 and JDK 17, which the stack (Debian trixie) does not carry:
    // a container sees only the stack and the slug, so the builds put Debian bookworm's builds
    // of them in the slugs (.heroku/python-runtime, .jdk), where trixie's C library runs them.
    // The Node example (`web: npm start`) runs on the Node.js and npm its slug carries
    // (.heroku/node, the build's own): the stack image has Debian's node and no npm.
    const copy = async (name: string) => {
      const dir = join(cfgDir, name);
      await cp(join(EXAMPLES, name), dir, {
        recursive: true,
        filter: (f) => !/\/(node_modules|target|__pycache__)(\/|$)/.test(f.slice(EXAMPLES.length)),
      });
      return dir;
    };
    // A classic buildpack as Heroku's are written: tools in the slug's bin/, found at run time
    // through `export PATH="$HOME/bin:$PATH"` in .profile.d (HOME=/app in the container).
    // Builds read a pinned buildpack as the app's uid: its dirs must be readable by others.
    await chmod(cfgDir, 0o755);
    const bp = join(cfgDir, 'classic-bp');
    await mkdir(join(bp, 'bin'), { recursive: true });
    const script = (body: string) => `#!/bin/sh\n${body}\n`;
    await writeFile(join(bp, 'bin', 'detect'), script('echo Classic'), { mode: 0o755 });
    await writeFile(
      join(bp, 'bin', 'compile'),
      script(
        [
          'mkdir -p "$1/bin" "$1/.profile.d"',
          `printf '%s\\n' '#!/bin/sh' 'exec node -e "require(\\"http\\").createServer((q, s) => s.end(\\"classic from \\" + process.env.HOME + \\"/bin\\")).listen(process.env.PORT)"' > "$1/bin/classic-web"`,
          'chmod +x "$1/bin/classic-web"',
          `echo 'export PATH="$HOME/bin:$PATH"' > "$1/.profile.d/classic.sh"`,
          'echo "-----> classic compile done"',
        ].join('\n'),
      ),
      { mode: 0o755 },
    );
    await writeFile(
      join(bp, 'bin', 'release'),
      script("printf -- '---\\ndefault_process_types:\\n  web: classic-web\\n'"),
      { mode: 0o755 },
    );
    const classic = join(cfgDir, 'classic-src');
    await mkdir(classic);
    await writeFile(join(classic, 'README'), 'a classic buildpack app\n');
    const apps: [string, string, (body: string) => void, RegExp?][] = [
      [
        'nodeex',
        await copy('node'),
        (b) =>
          expect(JSON.parse(b)).to.include({
            app: 'slipway-example-node',
            node: process.version,
            dyno: 'web.1',
          }),
      ],
      [
        'pyex',
        await copy('python'),
        (b) => expect(JSON.parse(b)).to.include({ app: 'slipway-example-python', dyno: 'web.1' }),
        /Installing Python 3\.11\.\d+ \(Debian bookworm: python3\.11 /,
      ],
      [
        'javaex',
        await copy('java'),
        (b) => expect(JSON.parse(b)).to.include({ app: 'slipway-example-java', dyno: 'web.1' }),
        /Installing OpenJDK 17 \(Debian bookworm: openjdk-17 /,
      ],
      ['classic', classic, (b) => expect(b).to.equal('classic from /app/bin')],
    ];
    for (const [app] of apps) await p.ok(['apps:create', app]);
    await p.ok(['buildpacks:add', bp, '-a', 'classic']);
    for (const [app, dir, check, runtime] of apps) {
      const out = await p.ok(['deploy', dir, '-a', app], 400_000);
      expect(out).to.match(new RegExp(`Deployed ${app} v`));
      if (runtime) expect(out).to.match(runtime);
      const r = await p.get(app);
      expect(r.status, `${app}: ${r.body}`).to.equal(200);
      check(r.body);
      expect(await appContainers(dataDir, app)).to.have.length(1);
    }
    // The Node.js both Node apps carry is one image layer, unpacked once: each slug image is the
    // shared member's image with the app's own part on top.
    const { default: Docker } = await import('dockerode');
    const docker = new Docker();
    const layers = async (app: string) => {
      const [id] = await appContainers(dataDir, app);
      const image = (await docker.getContainer(id as string).inspect()).Image;
      return (await docker.getImage(image).inspect()).RootFS.Layers ?? [];
    };
    const members = new Set<string | undefined>();
    for (const m of await docker.listImages({ filters: { reference: ['slipway/member'] } }))
      members.add((await docker.getImage(m.Id).inspect()).RootFS.Layers?.at(-1));
    const [a, ex] = [await layers('app-a'), await layers('nodeex')];
    expect(members.has(a.at(-2)), 'app-a on a slipway/member image').to.equal(true);
    expect(ex.at(-2)).to.equal(a.at(-2));
  });

  it("keeps app A's one-off dyno out of app B and out of the platform", async () => {
    await p.ok(['apps:create', 'app-b']);
    await p.ok(['config:set', 'B_SECRET=b-secret-value-42', '-a', 'app-b']);
    const bSrc = await fixtureCopy('hello', {
      VERSION: 'b-private-version-17',
      // The release phase runs as a one-off container of the new slug before it goes live.
      Procfile:
        "web: node server.js\nrelease: node -e \"console.log('release phase in ' + process.cwd() + ' as ' + process.getuid())\"\n",
    });
    await p.ok(['deploy', bSrc, '-a', 'app-b']);
    expect((await p.hello('app-b')).version).to.equal('b-private-version-17');
    expect(await p.ok(['logs', '-a', 'app-b'])).to.match(/release phase in \/app as [1-9]\d+/);
    const [b] = await appDynoAddresses(dataDir, 'app-b');
    // The address is right: the host (the router's side) reaches B's dyno there.
    expect((await fetch(`http://${b!.host}:${b!.port}/`)).status).to.equal(200);
    const script = [
      // Controls: the same reads do find the one-off's own environment and files.
      'grep -qs DYNO=run /proc/self/environ && echo CONTROL-ENV',
      'grep -qs createServer /app/server.js && echo CONTROL-FILES',
      'grep -rqs b-secret-value-42 /proc/[0-9]*/environ && echo LEAK-ENV',
      'grep -rqs b-private-version-17 /app /tmp /home /var /srv /opt /mnt && echo LEAK-FILES',
      'ps -eo comm= | grep -qx node && echo LEAK-PROCESSES',
      `curl -s -m 3 -o /dev/null http://${b!.host}:${b!.port}/ && echo LEAK-PORT`,
      `for f in ${dataDir} ${dataDir}/state.db ${dataDir}/credentials.json /var/run/docker.sock; do test -e "$f" && echo "LEAK-PATH $f"; done`,
      'echo "uid $(id -u) procs $(ps -e --no-headers | wc -l)"',
      'echo isolation-checked',
    ].join('; ');
    const out = await p.ok(['run', '-a', 'app-a', '--', script]);
    expect(out)
      .to.match(/isolation-checked/)
      .and.match(/CONTROL-ENV/)
      .and.match(/CONTROL-FILES/);
    expect(out).not.to.match(/LEAK/);
  });

  it('reaches its Postgres add-on on the dyno network gateway, never on a public address', async () => {
    await p.ok(['apps:create', 'notes']);
    await p.ok(['deploy', await fixtureCopy('pg-app'), '-a', 'notes'], 240_000);
    await p.ok(['addons:create', 'postgres', '-a', 'notes'], 240_000);
    const url = new URL(JSON.parse(await p.ok(['config', '-a', 'notes', '--json'])).DATABASE_URL);
    const [gateway] = await dynoGateways();
    expect(url.hostname).to.equal(gateway);
    expect(
      await eventually(
        async () => (await p.get('notes', '/write?v=from-a-container')).status === 200,
        30_000,
      ),
    ).to.equal(true);
    expect(JSON.parse((await p.get('notes', '/')).body).notes).to.include('from-a-container');
  });

  it('finishes ten deploys under continuous HTTP load with zero failed requests', async () => {
    const load = loadGenerator(p, 'app-a', 2);
    for (let i = 1; i <= 10; i++) {
      await writeFile(join(src, 'VERSION'), `load-${i}`);
      await p.ok(['deploy', src, '-a', 'app-a']);
      expect((await p.hello('app-a')).version).to.equal(`load-${i}`);
    }
    const stats = await load.stop();
    expect(stats.failures.slice(0, 5)).to.deep.equal([]);
    expect(stats.failed).to.equal(0);
    expect(stats.ok).to.be.greaterThan(50);
  });

  it('adopts its running containers after a SIGKILL and restart, with no second copy', async () => {
    await p.ok(['ps:scale', 'web=2', '-a', 'app-a']);
    // The last deploy's old dyno may still be draining (SIGTERM, then its grace): the formation's two first.
    expect(
      await eventually(async () => (await appContainers(dataDir, 'app-a')).length === 2, 30_000),
    ).to.equal(true);
    const before = await appContainers(dataDir, 'app-a');
    expect(before).to.have.length(2);
    await p.kill('SIGKILL');
    // The dynos outlive the platform process (the engine owns them) …
    expect(await appContainers(dataDir, 'app-a')).to.deep.equal(before);
    p = await PlatformProcess.start(dataDir, args);
    expect(
      await eventually(
        async () => (await p.hello('app-a').catch(() => undefined))?.version === 'load-10',
        60_000,
      ),
    ).to.equal(true);
    // … and the restarted platform serves through the same containers, not new copies.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await appContainers(dataDir, 'app-a')).to.deep.equal(before);
    const ps = JSON.parse(await p.ok(['ps', '-a', 'app-a', '--json']));
    expect(
      ps.dynos.filter((d: { type: string; state: string }) => d.type === 'web' && d.state === 'up'),
    ).to.have.length(2);
  });
});
