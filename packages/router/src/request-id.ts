/** Heroku's X-Request-ID rule: keep the client's id when it is sane, otherwise make one. */
import { randomUUID } from 'node:crypto';

const VALID_ID = /^[A-Za-z0-9+/=-]{20,200}$/;

/** The id to use for this request: the client's when it is 20–200 chars of `[A-Za-z0-9+/=-]`. */
export function requestIdFor(header: string | string[] | undefined): string {
  if (typeof header === 'string' && VALID_ID.test(header)) return header;
  return randomUUID();
}
