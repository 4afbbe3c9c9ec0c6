/**
 * One-off dynos: `POST /apps/:app/dynos` runs a command attached (its `attach_url`, a WebSocket
 * on the API port: the protocol is in attach-hub.ts) or detached to the logs; `POST
 * /apps/:app/dynos/:dyno/actions/stop` ends a one-off or restarts a formation dyno.
 */
import { clockRef, type OneOffSession, systemClock } from '@slipway/core';
import { sendJson } from '../api/http-util.js';
import type { RouteGroup } from '../api/route-groups.js';
import { DYNO_SIZES } from '../dynos/policy.js';
import { runtimeErrors } from '../errors.js';
import { DEFAULT_SIZE } from '../release-service.js';
import type { AppRecord } from '../state/records.js';
import { AttachHub } from './attach-hub.js';
import { dynoCreateSchema } from './schemas.js';

/** The one-off dynos route group (one attach hub per API server). */
export const oneOffRoutes: RouteGroup = {
  name: 'one-off-dynos',
  prefix: '/apps/:app/dynos',
  routes({ on, ctx, kernel, upgrade }) {
    const { state } = ctx;
    const opts = ctx.workflow ?? {};
    const app = (p: Record<string, string>): AppRecord => state.app(p.app as string);
    const hub = new AttachHub(opts.attachTimeoutMs, kernel?.resolve(clockRef) ?? systemClock);
    const sessions = new Map<string, OneOffSession>();
    upgrade((req, socket, head) => hub.upgrade(req, socket, head));
    on(
      'POST',
      '',
      async (req, res, p, _u, b) => {
        const a = app(p);
        const body = b as {
          command: string;
          attach?: boolean;
          size?: string;
          env?: Record<string, string>;
          tty?: { columns: number; rows: number };
          node?: string;
        };
        const rel = state.currentRelease(a.id);
        const slug = rel?.slug ? state.slug(rel.slug) : undefined;
        if (!rel || !slug)
          throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NO_RELEASE({ app: a.name, action: 'run a command in' });
        const sizeName = body.size ?? DEFAULT_SIZE;
        const memoryMb = DYNO_SIZES[sizeName];
        if (memoryMb === undefined)
          throw runtimeErrors.SLIPWAY_ERR_RUNTIME_INVALID_BODY({
            field: 'size',
            detail: `is not one of ${Object.keys(DYNO_SIZES).join(', ')}`,
            route: 'POST /apps/:app/dynos',
          });
        const attach = body.attach !== false;
        const session = await ctx.dynos.runOnce(a.name, {
          app: a.name,
          release: rel.version,
          type: 'run',
          command: body.command,
          env: {
            ...rel.config,
            ...(body.tty ? { TERM: body.env?.TERM ?? 'xterm-256color' } : {}),
            ...body.env,
          },
          size: { name: sizeName, memoryMb },
          slug: { checksum: slug.checksum, size: slug.size, stack: slug.stack },
          attach,
          ...(attach && body.tty ? { tty: body.tty } : {}),
          ...(attach ? { idleTimeoutMs: opts.runIdleTimeoutMs ?? 3_600_000 } : {}),
          ...(body.node ? { node: body.node } : {}),
        });
        const h = session.handle;
        const name = `${h.type}.${h.index}`;
        const key = `${a.name}/${name}`;
        sessions.set(key, session);
        void session.exited.finally(() => sessions.delete(key)).catch(() => {});
        let attachUrl: string | null = null;
        if (attach) {
          const secret = hub.hold(session, name);
          attachUrl = `ws://${req.headers.host ?? 'localhost'}${AttachHub.path(secret)}`;
        } else {
          session.stdout.resume();
          session.stderr?.resume();
        }
        sendJson(res, 201, {
          id: h.id,
          name,
          type: h.type,
          command: body.command,
          attach_url: attachUrl,
          state: 'up',
          size: sizeName,
          release: { id: rel.id, version: rel.version },
          app: { id: a.id, name: a.name },
          created_at: new Date(h.startedAt).toISOString(),
        });
      },
      { summary: 'Run a one-off dyno, attached (a WebSocket) or to the logs', body: dynoCreateSchema },
    );
    // Heroku's ps:stop / ps:kill: a one-off dyno ends; a formation dyno is replaced by the
    // formation (its type keeps its quantity), which is a restart of that one dyno.
    on('POST', '/:dyno/actions/stop', async (_q, res, p) => {
      const a = app(p);
      const name = p.dyno as string;
      const s = sessions.get(`${a.name}/${name}`);
      if (s) {
        s.kill('SIGTERM');
        return sendJson(res, 202, {});
      }
      // One-offs (run.N, release.N) not held here have already ended; only formation dynos restart.
      const formation = ctx.dynos
        .status(a.name)
        .some((d) => `${d.type}.${d.index}` === name && d.type !== 'run' && d.type !== 'release');
      if (!formation)
        throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
          what: `dyno ${name}`,
          hint: `See the app's dynos with \`slipway ps -a ${a.name}\`.`,
        });
      await ctx.releases.serial(a.name, () => ctx.dynos.restart(a.name, name));
      ctx.releases.event(a.name, `Stopped ${name}; the formation starts it again`);
      sendJson(res, 202, {});
    });
  },
};
