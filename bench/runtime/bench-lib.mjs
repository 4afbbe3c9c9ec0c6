// Helpers shared by the runtime benchmarks: an in-process platform composed from the Node.js
// buildpack only, its API, and the two measurements they repeat (a deploy until the new
// release serves, a scale until every dyno is up).
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packDir, startPlatform } from '@slipway/runtime';

/** The root of the checkout. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Start a platform in a temp dir with the Node.js buildpack only (no default plugins, so no
 * add-on servers); `opts` go to startPlatform. `stop()` stops it and removes the dir.
 */
export async function benchPlatform(name, opts = {}) {
  const dir = await mkdtemp(join(tmpdir(), `slipway-bench-${name}-`));
  await chmod(dir, 0o755);
  const configFile = join(dir, 'slipway.config.json');
  await writeFile(
    configFile,
    JSON.stringify({ defaults: false, plugins: [join(ROOT, 'packages/buildpacks/nodejs')] }),
  );
  const p = await startPlatform({
    dataDir: join(dir, 'data'),
    routerPort: 0,
    apiPort: 0,
    configFile,
    ...opts,
  });
  /** An API call: a JSON body is sent as JSON, a Buffer (a source tar.gz) as it is; throws on an error status. */
  const api = async (method, path, body) => {
    const json = body !== undefined && !Buffer.isBuffer(body);
    const r = await fetch(new URL(path, p.apiUrl), {
      method,
      headers: {
        authorization: `Bearer ${p.token}`,
        ...(json ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: json ? JSON.stringify(body) : body } : {}),
    });
    const j = await r.json();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${j.message}`);
    return j;
  };
  const stop = async () => {
    await p.stop();
    await rm(dir, { recursive: true, force: true });
  };
  return { p, dir, api, stop };
}

/** GET / of `app` through the router: the body on a 200, else undefined. */
export function routerGet(p, app) {
  return new Promise((resolve) => {
    request(
      { host: '127.0.0.1', port: p.routerPort, path: '/', headers: { host: `${app}.localhost` } },
      (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve(res.statusCode === 200 ? t : undefined));
      },
    )
      .on('error', () => resolve(undefined))
      .end();
  });
}

/**
 * Deploy `src` to `app` with `nonceFile` rewritten first (every deploy ships a new slug:
 * identical builds are content-addressed to the same slug, whose unpacked copy is reused), and
 * time it from the `Release vN created` log line until the router sends requests only to vN's
 * web dynos and one answers. `onLog(line, msSinceCreated)` sees the app's log lines after that.
 */
export async function timeDeployToServing({ p, api }, app, src, nonceFile, onLog) {
  let created;
  let version;
  const unsubscribe = p.logs.subscribe(app, (l) => {
    const m = /^Release v(\d+) created/.exec(l.message);
    if (m) {
      created = performance.now();
      version = Number(m[1]);
    }
    if (onLog && created) onLog(l, performance.now() - created);
  });
  try {
    await writeFile(join(src, nonceFile), `${Date.now()} ${Math.random()}`);
    const build = await api('POST', `/apps/${app}/builds`, await readFile(await packDir(src)));
    const table = p.dynos.routeTable();
    for (;;) {
      if (version !== undefined) {
        const mine = new Set(
          p.dynos
            .status(app)
            .filter((d) => d.release === version)
            .map((d) => `${d.host}:${d.port}`),
        );
        const targets = table.route(app)?.targets ?? [];
        if (
          targets.length &&
          targets.every((t) => mine.has(`${t.host}:${t.port}`)) &&
          (await routerGet(p, app)) !== undefined
        )
          return performance.now() - created;
      }
      const b = await api('GET', `/apps/${app}/builds/${build.id}`);
      if (b.status === 'failed' || (b.status === 'succeeded' && !b.release))
        throw new Error(`deploy failed: ${b.error}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    unsubscribe();
  }
}

/** Scale `app`'s web dynos to `n`; the ms until `n` are up (and, with `routed`, in the route table). */
export async function timeScale({ p, api }, app, n, { routed = false, pollMs = 50 } = {}) {
  const t0 = performance.now();
  await api('PATCH', `/apps/${app}/formation`, { updates: [{ type: 'web', quantity: n }] });
  for (;;) {
    const up = (await api('GET', `/apps/${app}/dynos`)).filter((d) => d.state === 'up').length;
    const inTable = routed ? (p.dynos.routeTable().route(app)?.targets.length ?? 0) : n;
    if (up >= n && inTable >= n) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The slug images a benchmark platform made (they carry its label). */
export async function removeSlugImages(dataDir) {
  const { default: Docker } = await import('dockerode');
  const docker = new Docker();
  const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  for (const img of await docker.listImages({ filters: { label: [`slipway.platform=${id}`] } }))
    await docker
      .getImage(img.Id)
      .remove({ force: true })
      .catch(() => {});
}
