/**
 * Password hashing with node:crypto's scrypt (memory-hard, no native dependency). The stored
 * form carries its parameters, `scrypt$N$r$p$salt$hash`, so they can be raised later without
 * breaking old hashes; verification compares in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_LEN = 32;
// 128·N·r bytes = 32 MiB at N=2^15; node's default cap (32 MiB) is just too small for it.
const MAX_MEM = 64 * 1024 * 1024;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LEN, { N: n, r, p, maxmem: MAX_MEM }, (e, key) =>
      e ? reject(e) : resolve(key),
    ),
  );
}

/** Hash a password for storage. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** True when `password` matches a stored hash (false for any malformed hash). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await derive(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Hash a password nobody knows, so an unknown email costs as much time as a known one. */
export const DUMMY_HASH_PROMISE: () => Promise<string> = (() => {
  let h: Promise<string> | undefined;
  return () => {
    h ??= hashPassword(randomBytes(16).toString('hex'));
    return h;
  };
})();
