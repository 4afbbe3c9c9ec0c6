/**
 * The `pre-receive` hook of every app repository (run by `git receive-pack`, inside git's
 * object quarantine). It asks the platform over loopback, with the push's one-time secret (its
 * only credential: no API token is in its environment),
 * whether the refs may be updated, then streams `git archive` of the new commit to the
 * platform and relays the build output, which git shows the pusher as `remote: ` lines.
 * Exiting non-zero makes git refuse the update: a failed build leaves the ref unchanged.
 */
import { execFile, spawn } from 'node:child_process';
import { request } from 'node:http';

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** One line of pre-receive input. */
interface RefUpdate {
  old: string;
  new: string;
  ref: string;
  emptyTree: boolean;
}

const git = (args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile('git', args, (e, out) => (e ? reject(e) : resolve(out.trim()))),
  );

async function readStdin(): Promise<string> {
  let text = '';
  for await (const c of process.stdin) text += (c as Buffer).toString();
  return text;
}

function call(path: string, body: NodeJS.ReadableStream | string): Promise<{ ok: boolean }> {
  const base = process.env.SLIPWAY_PUSH_URL as string;
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, base),
      {
        method: 'POST',
        headers: {
          'x-slipway-push-secret': process.env.SLIPWAY_PUSH_SECRET as string,
          'content-type': typeof body === 'string' ? 'application/json' : 'application/gzip',
        },
      },
      (res) => {
        res.on('data', (c: Buffer) => process.stdout.write(c));
        res.on('end', () =>
          resolve({
            ok: (res.statusCode ?? 500) < 300 && res.trailers['x-slipway-status'] !== 'failed',
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (typeof body === 'string') req.end(body);
    else body.pipe(req);
  });
}

async function main(): Promise<number> {
  const refs: RefUpdate[] = [];
  for (const line of (await readStdin()).split('\n')) {
    const [old, nu, ref] = line.trim().split(' ');
    if (!old || !nu || !ref) continue;
    const deleting = /^0+$/.test(nu);
    const emptyTree = !deleting && (await git(['rev-parse', `${nu}^{tree}`])) === EMPTY_TREE;
    refs.push({ old, new: nu, ref, emptyTree });
  }
  const check = await call('check', JSON.stringify({ refs }));
  if (!check.ok) return 1;
  const target = refs[0];
  if (!target) return 0;
  const archive = spawn('git', ['archive', '--format=tar.gz', target.new], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const built = await call('build', archive.stdout);
  return built.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stdout.write(` !     push callback failed: ${e.message}\n`);
    process.exit(1);
  },
);
