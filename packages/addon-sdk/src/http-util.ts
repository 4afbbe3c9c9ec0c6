/** Small HTTP helpers shared by the partner API server and the remote consumers (servers: http-server.ts). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** `Basic base64(user:password)`. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Constant-time string comparison (hashes first, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** True when the request carries Basic credentials equal to user:password. */
export function checkBasicAuth(req: IncomingMessage, user: string, password: string): boolean {
  const h = req.headers.authorization ?? '';
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(h);
  const given = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
  // Always compare, even without a header, so timing does not tell "no header" from "wrong".
  return safeEqual(given, `${user}:${password}`) && !!m;
}

/** fetch with a hard timeout; the AbortError becomes `timedOut: true`. */
export async function fetchWithTimeout(
  url: string,
  init: RequestInit,
  ms: number,
): Promise<{ res: Response; text: string } | { timedOut: true }> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), ms);
  try {
    const res = await fetch(url, { ...init, signal: ac.signal });
    const text = await res.text();
    return { res, text };
  } catch (e) {
    if (ac.signal.aborted) return { timedOut: true };
    throw e;
  } finally {
    clearTimeout(t);
  }
}

/** Parse JSON, or undefined when `text` is not JSON. */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Resolve after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
