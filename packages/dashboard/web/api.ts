/**
 * The dashboard's only door to the platform: the public API on the same origin. The session is
 * an HttpOnly cookie the page never sees; the CSRF token lives in memory only (never in
 * localStorage) and rides on every change.
 */

let csrf: string | null = null;

/** An API refusal, with the server's code and hint. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Remember the CSRF token of the signed-in session. */
export function setCsrf(token: string | null): void {
  csrf = token;
}

function headers(method: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    accept: 'application/json',
    ...(method !== 'GET' && csrf ? { 'x-csrf-token': csrf } : {}),
    ...extra,
  };
}

/** JSON request; a non-2xx answer throws an ApiError. */
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: headers(method, body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return answer<T>(res);
}

/** Upload a source archive (a build). */
export async function upload<T = any>(path: string, file: Blob): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: headers('POST', { 'content-type': 'application/gzip' }),
    body: file,
  });
  return answer<T>(res);
}

async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let data: any = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { message: text };
  }
  // The session ended (expired, signed out elsewhere, password changed): back to the sign-in page.
  if (res.status === 401 && csrf) dispatchEvent(new Event('slipway:signed-out'));
  if (!res.ok) throw new ApiError(res.status, data.message ?? `HTTP ${res.status}`, data.code, data.hint);
  return data as T;
}

/** Follow a text stream (build output, logs) line by line until it ends or `signal` aborts. */
export async function streamLines(
  path: string,
  onLine: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'text/plain' }, signal });
  if (!res.ok || !res.body) return void (await answer(res));
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i = buf.indexOf('\n');
      while (i >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
    }
    if (buf) onLine(buf);
  } catch (e) {
    if (!signal.aborted) throw e;
  }
}

/** `/apps/NAME` + rest, encoded. */
export const appPath = (app: string, rest = '') => `/apps/${encodeURIComponent(app)}${rest}`;
