/**
 * Reading `META-INF/MANIFEST.MF` out of a jar (a zip) without a JDK tool: the default `web`
 * process needs to know which built jar is runnable (has a `Main-Class`).
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

const EOCD_SIG = 0x06054b50;
const CEN_SIG = 0x02014b50;
const LOC_SIG = 0x04034b50;
const MANIFEST = 'META-INF/MANIFEST.MF';

/** The main attributes of a jar's manifest, or undefined when it has none or is not a zip. */
export async function readJarManifest(file: string): Promise<Record<string, string> | undefined> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    // The end-of-central-directory record is in the last 64 KiB + 22 bytes (max comment length).
    const tailLen = Math.min(size, 65_557);
    const tail = Buffer.alloc(tailLen);
    await fh.read(tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--)
      if (tail.readUInt32LE(i) === EOCD_SIG) {
        eocd = i;
        break;
      }
    if (eocd < 0) return undefined;
    const cenSize = tail.readUInt32LE(eocd + 12);
    const cenOffset = tail.readUInt32LE(eocd + 16);
    const cen = Buffer.alloc(cenSize);
    await fh.read(cen, 0, cenSize, cenOffset);
    for (let p = 0; p + 46 <= cen.length && cen.readUInt32LE(p) === CEN_SIG; ) {
      const method = cen.readUInt16LE(p + 10);
      const compSize = cen.readUInt32LE(p + 20);
      const nameLen = cen.readUInt16LE(p + 28);
      const extraLen = cen.readUInt16LE(p + 30);
      const commentLen = cen.readUInt16LE(p + 32);
      const localOffset = cen.readUInt32LE(p + 42);
      const name = cen.toString('utf8', p + 46, p + 46 + nameLen);
      p += 46 + nameLen + extraLen + commentLen;
      if (name !== MANIFEST) continue;
      const loc = Buffer.alloc(30);
      await fh.read(loc, 0, 30, localOffset);
      if (loc.readUInt32LE(0) !== LOC_SIG) return undefined;
      const dataStart = localOffset + 30 + loc.readUInt16LE(26) + loc.readUInt16LE(28);
      const data = Buffer.alloc(compSize);
      await fh.read(data, 0, compSize, dataStart);
      const text = (method === 8 ? inflateRawSync(data) : data).toString('utf8');
      return parseManifest(text);
    }
    return undefined;
  } finally {
    await fh.close();
  }
}

/** Parse manifest main attributes (continuation lines start with one space). */
export function parseManifest(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    if (line.startsWith(' ') && last) out[last] += line.slice(1);
    else {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      last = line.slice(0, i).trim();
      out[last] = line.slice(i + 1).trim();
    }
  }
  return out;
}

/** Jars a build tool leaves beside the real artifact, never what a dyno should run. */
const NOT_RUNNABLE = /^original-|-(sources|javadoc|tests|test-fixtures|plain)\.jar$/;

/** The runnable jar in `dir` (relative to `root`): has a Main-Class; the largest wins. */
export async function findRunnableJar(root: string, dir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(join(root, dir));
  } catch {
    return undefined;
  }
  let best: { rel: string; size: number } | undefined;
  for (const n of names) {
    if (!n.endsWith('.jar') || NOT_RUNNABLE.test(n)) continue;
    const file = join(root, dir, n);
    const manifest = await readJarManifest(file).catch(() => undefined);
    if (!manifest?.['Main-Class']) continue;
    const { size } = await stat(file);
    if (!best || size > best.size) best = { rel: `${dir}/${n}`, size };
  }
  return best?.rel;
}
