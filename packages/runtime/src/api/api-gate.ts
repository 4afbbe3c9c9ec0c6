/**
 * Who may call what on the platform API: the platform token (Bearer, or git's Basic password)
 * without accounts; with accounts, the gate (accounts/access-gate.ts) per route template. The
 * hook callbacks authenticate with the push's secret and the source blob URLs with the token in
 * their path; changes are recorded in the audit log and refresh the router's view.
 */
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../accounts/principal.js';
import { runtimeErrors } from '../errors.js';
import { GIT_PUSH_CALLBACKS } from '../git/routes.js';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';
import type { HttpGate } from './http-app.js';
import { SourceStore } from './routes-sources.js';
import type { ApiContext } from './server.js';

/** The gate of `createApiServer`. */
export function apiGate(ctx: ApiContext): HttpGate {
  const { state, access } = ctx;
  return {
    admit(req, template, params) {
      const method = req.method ?? 'GET';
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      // The hook callbacks authenticate with the push's secret alone and act as the pusher
      // (git/routes.ts); sign-in and the dashboard's files need no credentials.
      const callback = GIT_PUSH_CALLBACKS.has(path);
      // The source blob URLs carry their own credential: a token in their path (routes-sources.ts).
      const blob = SourceStore.isBlobPath(path);
      let principal: Principal | undefined;
      if (access) {
        if (!callback && !(template && access.isPublic(method, template)))
          principal = access.authenticate(req);
      } else if (!callback && !blob && !authorized(req, state))
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_UNAUTHORIZED();
      const action =
        template && principal && method !== 'GET' && method !== 'HEAD'
          ? { name: `${method} ${template}`, app: params.app ?? null }
          : undefined;
      const record = (status: number) => {
        if (action) access?.record(req, principal, action.name, action.app, status);
      };
      if (template && principal && access)
        try {
          access.authorize(principal, method, template, params);
        } catch (e) {
          record((e as { status?: number }).status ?? 500);
          throw e;
        }
      return {
        run: (fn) => (access ? access.run(principal, fn) : fn()),
        failed: record,
        succeeded: (status) => {
          record(status);
          // Not after the hook callbacks: they need no token, so anyone could trigger the
          // refresh, and the push's own POST (git-receive-pack, with a token) already does.
          if (method !== 'GET' && !callback && !blob) ctx.onChange?.();
        },
      };
    },
  };
}

function authorized(req: IncomingMessage, state: SqliteStateStore): boolean {
  const h = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  if (m) return state.verifyToken(m[1] as string);
  // git push sends the token as the HTTP Basic password (any user name).
  const b = /^Basic\s+(\S+)$/i.exec(h);
  const pair = b ? Buffer.from(b[1] as string, 'base64').toString('utf8') : '';
  return pair.includes(':') && state.verifyToken(pair.slice(pair.indexOf(':') + 1));
}
