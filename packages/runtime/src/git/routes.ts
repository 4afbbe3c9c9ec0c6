/**
 * git smart-HTTP on the API port: `git push http://git:<token>@<api-host>/<app>.git main`.
 * The API token is the HTTP Basic password (any user name). `/internal/git-push/*` are the
 * loopback callbacks of the repository hook; they take no API token, only a running push's
 * secret (`GIT_PUSH_CALLBACKS`, which the server lets past its token check).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSlipwayError } from '@slipway/core';
import { currentPrincipal } from '../accounts/principal.js';
import {
  DEFAULT_MAX_UPLOAD_BYTES,
  type RouteHandler,
  type RouteRegistrar,
  readJson,
} from '../api/http-util.js';
import type { RouteGroup } from '../api/route-groups.js';
import type { ApiContext } from '../api/server.js';
import { runHttpBackend } from './http-backend.js';
import { GitPushService } from './push-service.js';

const checkSchema = {
  type: 'object',
  required: ['refs'],
  properties: {
    refs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['old', 'new', 'ref', 'emptyTree'],
        properties: {
          old: { type: 'string', pattern: '^[0-9a-f]{40,64}$' },
          new: { type: 'string', pattern: '^[0-9a-f]{40,64}$' },
          ref: { type: 'string', maxLength: 1024 },
          emptyTree: { type: 'boolean' },
        },
      },
    },
  },
};

/** Paths of the hook callbacks: authenticated by the push secret, not by an API token. */
export const GIT_PUSH_CALLBACKS: ReadonlySet<string> = new Set([
  '/internal/git-push/check',
  '/internal/git-push/build',
]);

/** Where the hook reaches this server: the address the pusher connected to. */
function callbackBase(req: IncomingMessage): string {
  const host = req.socket.localAddress ?? '127.0.0.1';
  const h = host.includes(':') ? `[${host.replace(/^::ffff:/, '')}]` : host;
  return `http://${host.startsWith('::ffff:') ? host.slice(7) : h}:${req.socket.localPort}`;
}

/** The git push route group: the smart-HTTP endpoint and the hook callbacks (their paths span the API's root). */
export const gitRoutes: RouteGroup = {
  name: 'git',
  prefix: '',
  routes({ on, ctx, onAppDestroyed }) {
    const git = registerGitRoutes(on, ctx);
    // An app's repository goes with the app.
    onAppDestroyed((app) => git.removeRepo(app));
  },
};

/** Register the git endpoint and the hook callbacks; returns the push service. */
function registerGitRoutes(on: RouteRegistrar, ctx: ApiContext): GitPushService {
  const git = new GitPushService({
    state: ctx.state,
    deploys: ctx.deploys,
    dataDir: ctx.dataDir,
    maxPushBytes: ctx.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    webUrl: ctx.webUrl,
  });
  const serve: RouteHandler = async (req, res, p, url) => {
    const app = ctx.state.app(p.app as string);
    await git.ensureRepo(app);
    const pathInfo = `/${app.id}.git/${p.rest}`;
    // The hook's callbacks (and so the release) act as the user who pushed.
    const push =
      p.rest === 'git-receive-pack' ? git.open(app, callbackBase(req), currentPrincipal()) : undefined;
    try {
      await runHttpBackend(req, res, {
        projectRoot: git.reposDir,
        pathInfo,
        query: url.search.slice(1),
        remoteUser: 'slipway',
        // git's receive.maxInputSize refuses a big pack with a clear message; this cap is only
        // the backstop against a client that keeps sending.
        maxBodyBytes: 2 * (ctx.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES) + (1 << 20),
        ...(push ? { env: push.env } : {}),
      });
    } finally {
      if (push) git.close(push.secret);
    }
  };
  for (const rest of ['info/refs', 'git-receive-pack', 'git-upload-pack', 'HEAD']) {
    const method = rest.startsWith('git-') ? 'POST' : 'GET';
    on(method, `/:app\\.git/${rest}`, (req, res, p, url) => serve(req, res, { ...p, rest }, url));
  }

  // Refusals go back as text: the hook prints them as they are, and git shows `remote:  !  …`.
  const text = async (res: ServerResponse, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      if (!isSlipwayError(e) || res.headersSent) throw e;
      res.writeHead(e.status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(` !     ${e.message}\n${e.hint ? ` !     ${e.hint}\n` : ''}`);
    }
  };
  on('POST', '/internal/git-push/check', (req, res) =>
    text(res, async () => {
      // The secret is checked before the body is read: this route takes no token.
      git.authenticate(req.headers['x-slipway-push-secret']);
      const body = await readJson<{ refs: Parameters<GitPushService['check']>[1] }>(
        req,
        checkSchema,
        'POST /internal/git-push/check',
      );
      git.check(req.headers['x-slipway-push-secret'], body.refs);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end();
    }),
  );
  on('POST', '/internal/git-push/build', (req, res) => text(res, () => git.build(req, res)));
  return git;
}
