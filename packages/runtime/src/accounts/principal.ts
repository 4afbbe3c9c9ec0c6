/**
 * Who is making the request being served. The API gate runs each request inside
 * `withPrincipal`, so code far from the HTTP layer (the state store's triggers, a build that
 * ends in a release minutes later) still knows the user through AsyncLocalStorage.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { UserRecord } from './account-store.js';

/** An authenticated caller. */
export interface Principal {
  user: UserRecord;
  /** How it signed in: a user's API token, a browser session, or the platform token of credentials.json. */
  via: 'token' | 'session' | 'platform-token';
  /** The token's id (via `token`). */
  tokenId?: string;
  /** The session's CSRF token and cookie value (via `session`). */
  csrf?: string;
  sid?: string;
}

const store = new AsyncLocalStorage<Principal | undefined>();

/** Run `fn` as `principal`. */
export function withPrincipal<T>(principal: Principal | undefined, fn: () => T): T {
  return store.run(principal, fn);
}

/** The principal of the request being served, if any. */
export function currentPrincipal(): Principal | undefined {
  return store.getStore();
}

/** The user of the request being served, if any. */
export function currentActor(): UserRecord | undefined {
  return store.getStore()?.user;
}
