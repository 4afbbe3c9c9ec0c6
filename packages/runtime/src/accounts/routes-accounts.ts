/**
 * Account routes: sign-in (`POST /login` for the CLI, which gets a token; `POST /auth/session`
 * for the dashboard, which gets an HttpOnly cookie and a CSRF token), the caller's account and
 * API tokens (Heroku's `/account` and `/oauth/authorizations`), users (admin), an app's owner
 * and collaborators, transfers, and the audit log.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type RouteRegistrar, readJson, sendJson } from '../api/http-util.js';
import { type AccessGate, isHttps, SESSION_COOKIE } from './access-gate.js';
import { type AccessRecord, SESSION_TTL_MS, type TokenRecord, type UserRecord } from './account-store.js';
import { accountErrors } from './errors.js';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './password.js';
import { currentPrincipal, type Principal } from './principal.js';

const email = { type: 'string', minLength: 3, maxLength: 254 } as const;
const password = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const loginSchema = {
  type: 'object',
  required: ['email', 'password'],
  additionalProperties: false,
  properties: { email, password, description: { type: 'string', maxLength: 200 } },
} as const;
const accountPatchSchema = {
  type: 'object',
  required: ['password', 'current_password'],
  additionalProperties: false,
  properties: { password, current_password: password },
} as const;
const authorizationSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { description: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;
const userSchema = {
  type: 'object',
  required: ['email'],
  additionalProperties: false,
  properties: { email, password, admin: { type: 'boolean' } },
} as const;
const userPatchSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { password, admin: { type: 'boolean' } },
} as const;
const collaboratorSchema = {
  type: 'object',
  required: ['user'],
  additionalProperties: false,
  properties: { user: email, silent: { type: 'boolean' } },
} as const;
const transferSchema = {
  type: 'object',
  required: ['recipient'],
  additionalProperties: false,
  properties: { recipient: email },
} as const;

/** Heroku-shaped user. */
export const renderUser = (u: UserRecord) => ({
  id: u.id,
  email: u.email,
  admin: u.admin,
  owner: u.owner,
  created_at: u.createdAt,
});
/** A user as the API answers it. */
export type ApiUser = ReturnType<typeof renderUser>;
const renderToken = (t: TokenRecord, token?: string) => ({
  id: t.id,
  description: t.description,
  created_at: t.createdAt,
  last_used_at: t.lastUsedAt,
  ...(token ? { access_token: { token } } : {}),
});
/** An API token as the API answers it (`access_token` only when it is created). */
export type ApiToken = ReturnType<typeof renderToken>;
const renderAccess = (app: { id: string; name: string }, x: AccessRecord) => ({
  app: { id: app.id, name: app.name },
  user: { id: x.user.id, email: x.user.email },
  role: x.role,
  created_at: x.createdAt,
});
/** A collaborator (or the owner) of an app as the API answers it. */
export type ApiCollaborator = ReturnType<typeof renderAccess>;
/** `GET /account`: the caller, and how they signed in. */
export type ApiAccount = ApiUser & { via: string };
/** A token as created (`POST /oauth/authorizations`): the only answer that shows its secret. */
export type ApiNewToken = ApiToken & Required<Pick<ApiToken, 'access_token'>>;
/** `POST /login`: a new token for the user. */
export type ApiLogin = ApiNewToken & { user: ApiUser };
/** `POST /users`: the user, with the generated password when none was given. */
export type ApiNewUser = ApiUser & { password?: string };

/** Refuse passwords too short to resist guessing. */
export function checkPassword(pw: string): void {
  if ([...pw].length < 10)
    throw accountErrors.SLIPWAY_ERR_ACCOUNTS_PASSWORD({ detail: 'it has fewer than 10 characters' });
}

/** Register the account routes. */
export function registerAccountRoutes(on: RouteRegistrar, gate: AccessGate): void {
  const { store, state } = gate;
  const me = (): Principal => currentPrincipal() as Principal;

  // Throttled per email+address and per address; unknown emails cost a hash too. The attempt
  // counts before the (slow) hash is checked: parallel attempts cannot all pass the limit.
  async function signIn(
    req: IncomingMessage,
    res: ServerResponse,
    body: { email: string; password: string },
  ) {
    const ip = req.socket.remoteAddress ?? 'unknown';
    const key = `${body.email.toLowerCase()}|${ip}`;
    const wait = Math.max(gate.loginLimiter.retryAfter(key), gate.addressLimiter.retryAfter(ip));
    if (wait) {
      res.setHeader('retry-after', String(wait));
      throw accountErrors.SLIPWAY_ERR_ACCOUNTS_RATE_LIMITED({ who: body.email, seconds: wait });
    }
    gate.loginLimiter.fail(key);
    gate.addressLimiter.fail(ip);
    const u = store.userByEmail(body.email);
    const hash = (u && store.passwordHash(u.id)) || (await DUMMY_HASH_PROMISE());
    const ok = await verifyPassword(body.password, hash);
    if (!u || !ok) {
      store.audit({ actor: body.email.slice(0, 254), action: 'login failed', app: null, status: 401, ip });
      throw accountErrors.SLIPWAY_ERR_ACCOUNTS_LOGIN();
    }
    gate.loginLimiter.clear(key);
    gate.addressLimiter.forgive(ip);
    store.audit({ actor: u.email, action: 'login', app: null, status: 200, ip });
    return u;
  }

  on(
    'POST',
    '/login',
    async (req, res, _p, _u, b) => {
      const body = b as { email: string; password: string; description?: string };
      const u = await signIn(req, res, body);
      const t = store.createToken(u.id, body.description ?? `slipway login ${new Date().toISOString()}`);
      sendJson(res, 201, { ...renderToken(t.record, t.token), user: renderUser(u) });
    },
    { body: loginSchema },
  );

  // --- browser sessions -----------------------------------------------------------------------
  const setCookie = (req: IncomingMessage, res: ServerResponse, value: string, maxAge: number) =>
    res.setHeader(
      'set-cookie',
      `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${isHttps(req) ? '; Secure' : ''}`,
    );
  on(
    'POST',
    '/auth/session',
    async (req, res) => {
      // A form of another site can post JSON-looking text/plain: it would sign the browser in to
      // the attacker's account (login CSRF). Only a same-origin script can send application/json.
      // So the type is checked before the body is read: this route reads its own body.
      const type = req.headers['content-type'] ?? '';
      if (!/^application\/json\s*(;|$)/i.test(type))
        throw accountErrors.SLIPWAY_ERR_ACCOUNTS_SESSION_TYPE({
          type: type.slice(0, 80) || 'no content type',
        });
      const body = await readJson<{ email: string; password: string }>(
        req,
        loginSchema,
        'POST /auth/session',
      );
      const u = await signIn(req, res, body);
      const s = store.createSession(u.id);
      setCookie(req, res, s.sid, SESSION_TTL_MS / 1000);
      sendJson(res, 201, { user: renderUser(u), csrf_token: s.csrf });
    },
    { summary: 'Sign in a browser (a session cookie and its CSRF token)' },
  );
  on('GET', '/auth/session', async (_q, res) =>
    sendJson(res, 200, { user: renderUser(me().user), csrf_token: me().csrf ?? null }),
  );
  on('DELETE', '/auth/session', async (req, res) => {
    const p = me();
    if (p.sid) store.endSession(p.sid);
    setCookie(req, res, '', 0);
    sendJson(res, 200, {});
  });

  // --- the caller's account and tokens --------------------------------------------------------
  on('GET', '/account', async (_q, res) => sendJson(res, 200, { ...renderUser(me().user), via: me().via }));
  on(
    'PATCH',
    '/account',
    async (_req, res, _p, _u, b) => {
      const body = b as { password: string; current_password: string };
      const u = me().user;
      if (!(await verifyPassword(body.current_password, store.passwordHash(u.id) ?? '')))
        throw accountErrors.SLIPWAY_ERR_ACCOUNTS_LOGIN();
      checkPassword(body.password);
      store.setPasswordHash(u.id, await hashPassword(body.password));
      sendJson(res, 200, renderUser(u));
    },
    { body: accountPatchSchema },
  );
  on('GET', '/oauth/authorizations', async (_q, res) =>
    sendJson(
      res,
      200,
      store.tokens(me().user.id).map((t) => renderToken(t)),
    ),
  );
  on(
    'POST',
    '/oauth/authorizations',
    async (_req, res, _p, _u, b) => {
      const body = b as { description?: string };
      const t = store.createToken(me().user.id, body.description ?? `token ${new Date().toISOString()}`);
      sendJson(res, 201, renderToken(t.record, t.token));
    },
    { body: authorizationSchema },
  );
  on('DELETE', '/oauth/authorizations/:id', async (_q, res, p) =>
    sendJson(res, 200, renderToken(store.revokeToken(me().user.id, p.id as string))),
  );

  // --- users (admin) --------------------------------------------------------------------------
  on('GET', '/users', async (_q, res) => sendJson(res, 200, store.listUsers().map(renderUser)));
  on(
    'POST',
    '/users',
    async (_req, res, _p, _u, b) => {
      const body = b as { email: string; password?: string; admin?: boolean };
      const pw = body.password ?? randomBytes(12).toString('base64url');
      checkPassword(pw);
      const u = store.createUser(body.email, await hashPassword(pw), { admin: !!body.admin });
      // A generated password is shown once, as a token is.
      sendJson(res, 201, { ...renderUser(u), ...(body.password ? {} : { password: pw }) });
    },
    { body: userSchema },
  );
  on(
    'PATCH',
    '/users/:email',
    async (_req, res, p, _u, b) => {
      const body = b as { password?: string; admin?: boolean };
      const u = store.requireUser(p.email as string);
      if (body.password !== undefined) {
        checkPassword(body.password);
        store.setPasswordHash(u.id, await hashPassword(body.password));
      }
      // The owner stays an admin: the platform always has one.
      if (body.admin !== undefined && !u.owner) store.setAdmin(u.id, body.admin);
      sendJson(res, 200, renderUser(store.user(u.id) as UserRecord));
    },
    { body: userPatchSchema },
  );
  on('DELETE', '/users/:email', async (_q, res, p) =>
    sendJson(res, 200, renderUser(store.deleteUser(p.email as string))),
  );

  // --- app access -----------------------------------------------------------------------------
  on('GET', '/apps/:app/collaborators', async (_q, res, p) => {
    const a = state.app(p.app as string);
    sendJson(
      res,
      200,
      store.access(a.id).map((x) => renderAccess(a, x)),
    );
  });
  on(
    'POST',
    '/apps/:app/collaborators',
    async (_req, res, p, _u, b) => {
      const a = state.app(p.app as string);
      const body = b as { user: string };
      sendJson(res, 201, renderAccess(a, store.addCollaborator(a.id, a.name, body.user)));
    },
    { body: collaboratorSchema },
  );
  on('DELETE', '/apps/:app/collaborators/:email', async (_q, res, p) => {
    const a = state.app(p.app as string);
    sendJson(res, 200, renderAccess(a, store.removeCollaborator(a.id, a.name, p.email as string)));
  });
  on(
    'POST',
    '/apps/:app/transfers',
    async (_req, res, p, _u, b) => {
      const a = state.app(p.app as string);
      const body = b as { recipient: string };
      sendJson(res, 201, renderAccess(a, store.transfer(a.id, body.recipient)));
    },
    { body: transferSchema },
  );

  // --- audit log ------------------------------------------------------------------------------
  on('GET', '/audit', async (_q, res, _p, url) => {
    const n = Math.min(Math.max(Number(url.searchParams.get('n') ?? 100) || 100, 1), 1000);
    const app = url.searchParams.get('app') ?? undefined;
    const u = me().user;
    const apps = gate.appNamesOf(u);
    const events = store.auditEvents({
      n,
      ...(app ? { app } : {}),
      ...(apps ? { visible: { apps, actor: u.email } } : {}),
    });
    sendJson(res, 200, events);
  });
}
