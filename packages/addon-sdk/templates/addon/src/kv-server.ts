/**
 * The bucket server the provider supervises. One directory per bucket under KV_DIR, holding
 * `.token` (the bucket's password), `.limit` (max keys, from the plan) and one file per key.
 *
 *   PUT    /buckets/<bucket>/<key>   store the body (≤ 1 MiB)
 *   GET    /buckets/<bucket>/<key>   read it back
 *   DELETE /buckets/<bucket>/<key>   remove it
 *   GET    /buckets/<bucket>          list keys (JSON)
 *
 * Every request needs Basic auth `<bucket>:<token>`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';

const dir = process.env.KV_DIR ?? '';
const port = Number(process.env.KV_PORT);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const LIMIT = 1024 * 1024;

type Answer = [status: number, body: string | Buffer];

// Hashing first makes both sides the same length, which timingSafeEqual requires.
const same = (a: string, b: string) =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

async function authorised(req: IncomingMessage, bucket: string): Promise<boolean> {
  const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
  const given = m?.[1] ? Buffer.from(m[1], 'base64').toString() : '';
  const token = await readFile(join(dir, bucket, '.token'), 'utf8').catch(() => undefined);
  return token !== undefined && same(given, `${bucket}:${token}`);
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > LIMIT) throw Object.assign(new Error('too large'), { status: 413 });
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

async function handle(req: IncomingMessage): Promise<Answer> {
  const [, root, bucket, key, extra] = new URL(req.url ?? '/', 'http://x').pathname.split('/');
  if (root !== 'buckets' || !bucket || !NAME.test(bucket) || extra !== undefined) return [404, 'not found\n'];
  if (key !== undefined && !NAME.test(key)) return [400, 'bad key\n'];
  if (!(await authorised(req, bucket))) return [401, 'unauthorised\n'];
  const keys = async () => (await readdir(join(dir, bucket))).filter((k) => !k.startsWith('.'));
  if (!key) return req.method === 'GET' ? [200, JSON.stringify(await keys())] : [405, 'use GET\n'];
  const file = join(dir, bucket, key);
  if (req.method === 'GET') {
    const data = await readFile(file).catch(() => undefined);
    return data ? [200, data] : [404, 'no such key\n'];
  }
  if (req.method === 'PUT') {
    const data = await body(req);
    const existing = await keys();
    const limit = Number(await readFile(join(dir, bucket, '.limit'), 'utf8').catch(() => '100'));
    if (!existing.includes(key) && existing.length >= limit) return [507, `bucket is full (${limit} keys)\n`];
    await writeFile(file, data);
    return [204, ''];
  }
  if (req.method === 'DELETE') {
    await rm(file, { force: true });
    return [204, ''];
  }
  return [405, 'method not allowed\n'];
}

createServer((req, res) => {
  handle(req).then(
    ([status, payload]) => res.writeHead(status).end(payload),
    (e: { status?: number; message: string }) =>
      res.writeHead(e.status ?? 500).end(`${e.status ? e.message : 'internal error'}\n`),
  );
}).listen(port, '127.0.0.1', () => console.log(`buckets in ${dir} on port ${port}`));

process.on('SIGTERM', () => process.exit(0));
