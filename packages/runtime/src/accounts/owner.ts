/**
 * The platform owner: the first user, created on first start with a random password. Like the
 * platform token, the password is kept in `<dataDir>/credentials.json` (mode 0600) for the
 * person who runs `slipway start`; changing it (`slipway passwd`) is recommended.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AccessGate } from './access-gate.js';
import { hashPassword } from './password.js';

/** Default owner email when neither the option nor `SLIPWAY_OWNER_EMAIL` names one. */
export const DEFAULT_OWNER_EMAIL = 'owner@slipway.local';

/** The owner's email and, when still known, the password it was created with. */
export interface OwnerCredentials {
  email: string;
  password?: string;
}

/** A random first password and its hash (a scrypt: start it early, it runs off the main thread). */
export async function ownerSeed(): Promise<{ password: string; hash: string }> {
  const password = randomBytes(15).toString('base64url');
  return { password, hash: await hashPassword(password) };
}

/** Create the owner on first start; later starts keep it and the password credentials.json holds. */
export async function ensureOwner(
  gate: AccessGate,
  credentialsFile: string,
  email?: string,
  seed?: Promise<{ password: string; hash: string }>,
): Promise<OwnerCredentials> {
  const existing = gate.store.owner();
  if (existing) {
    let password: string | undefined;
    try {
      const c = JSON.parse(await readFile(credentialsFile, 'utf8')) as { email?: string; password?: string };
      if (c.email === existing.email) password = c.password;
    } catch {
      // no file yet (or unreadable): the password is not shown again
    }
    return { email: existing.email, ...(password ? { password } : {}) };
  }
  const { password, hash } = await (seed ?? ownerSeed());
  const u = gate.store.createUser(email ?? (process.env.SLIPWAY_OWNER_EMAIL || DEFAULT_OWNER_EMAIL), hash, {
    owner: true,
  });
  return { email: u.email, password };
}
