/**
 * The API's gate: who is calling (a user's token, a browser session with its CSRF token, or the
 * platform token of credentials.json, which acts as the owner) and what they may do. The rules
 * are decided on the route's template, so every route is covered the day it is added:
 *
 * - a route with an `:app` parameter needs the caller to own or collaborate on that app (the
 *   admin reaches every app); a few of them are for the owner only (destroy, access, transfer);
 * - the routes any signed-in user may call are listed in `USER_ROUTES`;
 * - every other route is for the platform admin.
 *
 * Changes are written to the audit log with the caller's email.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { runtimeErrors } from '../errors.js';
import type { AppRecord } from '../state/records.js';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';
import { AccountStore, type UserRecord } from './account-store.js';
import { accountErrors } from './errors.js';
import { currentPrincipal, type Principal, withPrincipal } from './principal.js';
import { AttemptLimiter } from './rate-limit.js';

/** Routes without an app that every signed-in user may call (`METHOD template`). */
export const USER_ROUTES: ReadonlySet<string> = new Set([
  'GET /apps',
  'POST /apps',
  'POST /app-setups',
  'POST /sources',
  'GET /addon-services',
  'GET /addon-services/:service/plans',
  'GET /stacks',
  'GET /account',
  'PATCH /account',
  'GET /oauth/authorizations',
  'POST /oauth/authorizations',
  'DELETE /oauth/authorizations/:id',
  'GET /auth/session',
  'DELETE /auth/session',
  'GET /audit',
]);

/** Routes answered without any credentials (sign-in and the dashboard's static files). */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  'POST /login',
  'POST /auth/session',
  'GET /',
  'GET /dashboard',
  'GET /dashboard/assets/:file',
  // Source blob URLs: the token in the path is the credential, as with a pre-signed S3 URL.
  'PUT /sources/:id/:token',
  'GET /sources/:id/:token',
]);

/** App routes only the app's owner (or the admin) may call. */
export const OWNER_ROUTES: ReadonlyMap<string, string> = new Map([
  ['DELETE /apps/:app', 'destroying the app'],
  ['POST /apps/:app/collaborators', 'adding a collaborator'],
  ['DELETE /apps/:app/collaborators/:email', 'removing a collaborator'],
  ['POST /apps/:app/transfers', 'transferring the app'],
]);

/** Calls that change nothing though they are not GETs: left out of the audit log. */
const UNAUDITED: ReadonlySet<string> = new Set(['POST /apps/:app/log-sessions']);

/** The session cookie's name. */
export const SESSION_COOKIE = 'slipway_session';

/** Options of the gate. */
export interface AccessGateOptions {
  state: SqliteStateStore;
  /** Failed sign-ins allowed per email and address in `loginWindowMs` (default 5). */
  loginMaxFailures?: number;
  /** Failed sign-ins allowed per address in `loginWindowMs`, whatever the email (default 20). */
  loginMaxPerAddress?: number;
  /** Default 15 min. */
  loginWindowMs?: number;
  /** Built dashboard (index.html + assets/); absent = `/dashboard` answers 404 with a hint. */
  dashboardDir?: string;
}

/** Authentication, authorisation and auditing of API requests. */
export class AccessGate {
  readonly store: AccountStore;
  readonly state: SqliteStateStore;
  readonly dashboardDir: string | undefined;
  /** Per email+address. */
  readonly loginLimiter: AttemptLimiter;
  /** Per address. */
  readonly addressLimiter: AttemptLimiter;

  constructor(opts: AccessGateOptions) {
    this.state = opts.state;
    this.store = new AccountStore(opts.state.db);
    this.dashboardDir = opts.dashboardDir;
    const windowMs = opts.loginWindowMs ?? 15 * 60_000;
    this.loginLimiter = new AttemptLimiter(opts.loginMaxFailures ?? 5, windowMs);
    this.addressLimiter = new AttemptLimiter(opts.loginMaxPerAddress ?? 20, windowMs);
  }

  /** True for the routes answered without credentials. */
  isPublic(method: string, template: string): boolean {
    return PUBLIC_ROUTES.has(`${method} ${template}`);
  }

  /** The caller, or the coded 401; a session's change without its CSRF token is a 403. */
  authenticate(req: IncomingMessage): Principal {
    const p = this.principalOf(req);
    if (!p) throw runtimeErrors.SLIPWAY_ERR_RUNTIME_UNAUTHORIZED();
    const method = req.method ?? 'GET';
    if (p.via === 'session' && method !== 'GET' && method !== 'HEAD') {
      const sent = req.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !safeEqual(sent, p.csrf ?? ''))
        throw accountErrors.SLIPWAY_ERR_ACCOUNTS_CSRF({ method });
    }
    return p;
  }

  private principalOf(req: IncomingMessage): Principal | undefined {
    const h = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(h)?.[1];
    // git push sends the token as the HTTP Basic password (any user name).
    const basic = /^Basic\s+(\S+)$/i.exec(h)?.[1];
    const pair = basic ? Buffer.from(basic, 'base64').toString('utf8') : '';
    const token = bearer ?? (pair.includes(':') ? pair.slice(pair.indexOf(':') + 1) : undefined);
    if (token) {
      const found = this.store.userForToken(token);
      if (found) return { user: found.user, via: 'token', tokenId: found.tokenId };
      const owner = this.store.owner();
      if (owner && this.state.verifyToken(token)) return { user: owner, via: 'platform-token' };
      return undefined;
    }
    const sid = cookie(req, SESSION_COOKIE);
    const s = sid ? this.store.session(sid) : undefined;
    return s && sid ? { user: s.user, via: 'session', csrf: s.csrf, sid } : undefined;
  }

  /** Refuse (403) what the caller may not do on this route; unknown apps fall through to the route's 404. */
  authorize(p: Principal, method: string, template: string, params: Record<string, string>): void {
    const key = `${method} ${template}`;
    const name = params.app;
    if (name === undefined) {
      if (USER_ROUTES.has(key) || p.user.admin) return;
      throw accountErrors.SLIPWAY_ERR_ACCOUNTS_ADMIN_ONLY({ method, path: template });
    }
    if (p.user.admin) return;
    const app = this.state.findApp(name);
    if (!app) return;
    const role = this.store.role(app.id, p.user.id);
    if (!role) throw accountErrors.SLIPWAY_ERR_ACCOUNTS_APP_ACCESS({ email: p.user.email, app: name });
    const ownerAction = OWNER_ROUTES.get(key);
    if (ownerAction && role !== 'owner')
      throw accountErrors.SLIPWAY_ERR_ACCOUNTS_OWNER_ONLY({ action: ownerAction, app: name });
  }

  /** Run a request's handler as `p`. */
  run<T>(p: Principal | undefined, fn: () => T): T {
    return withPrincipal(p, fn);
  }

  /** The apps of `list` the current caller may see. */
  visibleApps<A extends AppRecord>(list: A[]): A[] {
    const p = currentPrincipal();
    if (!p || p.user.admin) return list;
    const mine = this.store.appIdsOf(p.user.id);
    return list.filter((a) => mine.has(a.id));
  }

  /** Names of the apps a user may see (null = all, for the admin). */
  appNamesOf(user: UserRecord): string[] | null {
    if (user.admin) return null;
    const mine = this.store.appIdsOf(user.id);
    return this.state
      .listApps()
      .filter((a) => mine.has(a.id))
      .map((a) => a.name);
  }

  /** Write a change to the audit log. */
  record(
    req: IncomingMessage,
    p: Principal | undefined,
    action: string,
    app: string | null,
    status: number,
  ): void {
    if (UNAUDITED.has(action)) return;
    this.store.audit({
      actor: p?.user.email ?? null,
      action,
      app,
      status,
      ip: req.socket.remoteAddress ?? null,
    });
  }

  /** Who made a release, Heroku's `user` field. */
  releaseUser(releaseId: string): { id: string | null; email: string } | null {
    return this.store.releaseUser(releaseId);
  }
}

/** True when the request came over TLS (directly or through a proxy that says so). */
export function isHttps(req: IncomingMessage): boolean {
  return !!(req.socket as TLSSocket).encrypted || req.headers['x-forwarded-proto'] === 'https';
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
