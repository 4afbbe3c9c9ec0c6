/**
 * The API's HTTP layer on Fastify: route modules register through a `RouteRegistrar` (one
 * encapsulated Fastify plugin per module), JSON bodies are parsed and checked with ajv against
 * the route's schema before the handler runs, answers go through the route's response schemas,
 * one error handler renders the coded errors (`{ id, message, code, hint }` with the catalogue's
 * status), and the route schemas make the OpenAPI document served at `/openapi.json`.
 * Bodies of routes without a schema (archive uploads, git smart HTTP) are left unread for the
 * handler; a handler may also write the raw response itself (streams, static files).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import { checkSchema, errorAnswer } from '@slipway/core';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify';
import { runtimeErrors } from '../errors.js';
import { jsonReplies, type RouteHandler, type RouteSpec, readBody, sendError } from './http-util.js';

/** Largest JSON body a route with a body schema accepts. */
export const MAX_JSON_BYTES = 1 << 20;

/** What the gate decided for one request, kept for the handler and the error handler. */
export interface Admission {
  /** Run the handler as the caller (the accounts gate's principal), or as is. */
  run<T>(fn: () => T): T;
  /** The handler failed with this status (the audit log records a refused change). */
  failed(status: number): void;
  /** The handler answered with this status (audit log; a change refreshes the router's view). */
  succeeded(status: number): void;
}

/** How `createHttpApp` decides who may call what. */
export interface HttpGate {
  /**
   * Admit or refuse (throw a coded error) a request before its body is read. `template` is the
   * matched route (`/apps/:app`), undefined when no route matches (the gate still answers 401
   * first, as before, so unknown paths reveal nothing).
   */
  admit(req: IncomingMessage, template: string | undefined, params: Record<string, string>): Admission;
}

/** One registered route, as `apiRoutes` lists it. */
export interface RouteEntry {
  method: string;
  path: string;
  group: string;
  /** The group's prefix (a plugin's route group): Fastify mounts the group there. */
  prefix?: string;
  h: RouteHandler;
  spec?: RouteSpec;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes a JSON body (it has a body schema). */
    json?: boolean;
    /** The template as the route module registered it (the gate's and audit log's name). */
    template?: string;
  }
}

const admissions = new WeakMap<FastifyRequest, Admission>();

/** Build the Fastify app of the routes (not ready yet) and the Node server that serves it. */
export function createHttpApp(
  routes: RouteEntry[],
  gate: HttpGate,
  info: { title: string; version: string },
): { app: FastifyInstance; server: Server } {
  let ready: Promise<unknown> | undefined;
  let booted = false;
  const boot = () => Promise.resolve(app.ready());
  const app = Fastify({
    logger: false,
    // HEAD was never answered by GET routes; keep it a 405.
    exposeHeadRoutes: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 4096 },
    // Routes are added by `ready()`, which `createApiServer` cannot await (it returns the server
    // at once, as before): a request waits for it instead.
    serverFactory: (handler) =>
      createServer((req, res) => {
        if (booted) return handler(req, res);
        (ready ?? boot()).then(
          () => handler(req, res),
          (e: unknown) => sendError(res, e),
        );
      }),
    frameworkErrors: (err, req, framed) => {
      const reply = framed as unknown as FastifyReply;
      const path = String(req.raw.url ?? '').slice(0, 200);
      const e =
        err.code === 'FST_ERR_BAD_URL' ? runtimeErrors.SLIPWAY_ERR_RUNTIME_BAD_PATH({ path }) : undefined;
      if (e) reply.code(e.status).send(e.toJSON());
      else reply.code(err.statusCode ?? 400).send({ id: 'bad_request', message: err.message });
    },
  });

  // Bodies: JSON for routes that declare a schema (whatever the content type: curl and fetch
  // send text/plain), untouched for the others, which read the stream themselves.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, _payload, done) => {
    if (!request.routeOptions.config.json) return done(null, undefined);
    readBody(request.raw, MAX_JSON_BYTES).then((buf) => {
      const raw = buf.toString('utf8');
      try {
        done(null, raw.trim() === '' ? {} : JSON.parse(raw));
      } catch (e) {
        done(runtimeErrors.SLIPWAY_ERR_RUNTIME_BAD_JSON({ detail: (e as Error).message }));
      }
    }, done);
  });
  // ajv through core's checkSchema: the deepest problem, named, as every Slipway schema error.
  app.setValidatorCompiler(({ schema, method, url }) => (data: unknown) => {
    const [problem] = checkSchema(schema, data);
    if (!problem) return { value: data };
    return {
      error: runtimeErrors.SLIPWAY_ERR_RUNTIME_INVALID_BODY({
        field: problem.field,
        detail: problem.detail,
        route: `${method} ${url}`,
      }),
    };
  });

  // A callback hook, not an async one: it runs on every request.
  app.addHook('onRequest', (request, reply, done) => {
    const path = request.url.split('?')[0] ?? '/';
    if (path === '/healthz' || path === '/openapi.json') return done();
    // git asks for Basic credentials only after a 401 that offers them.
    if (/\.git\//.test(path)) reply.raw.setHeader('www-authenticate', 'Basic realm="slipway"');
    const template = request.is404 ? undefined : request.routeOptions.config.template;
    try {
      admissions.set(request, gate.admit(request.raw, template, request.params as Record<string, string>));
    } catch (e) {
      return done(e as Error);
    }
    done();
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    admissions.get(request)?.failed((err as { status?: number }).status ?? 500);
    if (!request.raw.complete) request.raw.resume();
    const { status, body } = errorAnswer(
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? runtimeErrors.SLIPWAY_ERR_RUNTIME_BODY_TOO_LARGE({ limit: MAX_JSON_BYTES })
        : err,
    );
    reply.code(status).send(body);
  });

  // An unknown path is a 404, a known path with another method a 405.
  const known = routes.map((r) => new RegExp(`^${r.path.replace(/:(\w+)/g, '[^/]+')}/?$`));
  app.setNotFoundHandler(async (request) => {
    const method = request.method;
    const path = request.url.split('?')[0] ?? '/';
    const err = runtimeErrors.SLIPWAY_ERR_RUNTIME_ROUTE({ method, path });
    throw known.some((re) => re.test(path)) ? Object.assign(err, { status: 405 }) : err;
  });

  app.register(swagger, {
    openapi: {
      info,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: 'slipway_session' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const groups = new Map<string, RouteEntry[]>();
  for (const r of routes) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
  // One encapsulated Fastify plugin per group, under its prefix when it has one.
  for (const [group, list] of groups) {
    const prefix = list[0]?.prefix ?? '';
    app.register(
      async (scope) => {
        for (const r of list) scope.route(fastifyRoute(r, group, prefix));
      },
      prefix ? { prefix } : {},
    );
  }
  ready = boot().then(() => {
    booted = true;
  });
  // A failure shows in every answer (sendError above); it must not also be unhandled.
  ready.catch(() => {});
  return { app, server: app.server };
}

/** One registered route as a Fastify route: schemas, and the handler in the gate's context. */
function fastifyRoute(r: RouteEntry, group: string, prefix: string): RouteOptions {
  const { spec } = r;
  return {
    method: r.method as 'GET',
    // `\\.` (a literal dot in the old regexp templates) is a plain dot for Fastify's router.
    url: r.path.slice(prefix.length).replace(/\\\./g, '.') || '/',
    config: { json: spec?.body !== undefined, template: r.path },
    // No body at all is `{}`, as an empty one is.
    ...(spec?.body
      ? {
          preValidation: (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
            if (request.body === undefined) request.body = {};
            done();
          },
        }
      : {}),
    schema: {
      tags: [group],
      ...(spec?.summary ? { summary: spec.summary } : {}),
      ...(spec?.body ? { body: spec.body } : {}),
      ...(spec?.response ? { response: spec.response } : {}),
    },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const res: ServerResponse = reply.raw;
      const admission = admissions.get(request);
      jsonReplies.set(res, (status, body) => {
        reply.code(status).send(body);
      });
      const url = new URL(request.url, 'http://api');
      const params = request.params as Record<string, string>;
      const call = () => r.h(request.raw, res, params, url, request.body);
      try {
        await (admission ? admission.run(call) : call());
      } catch (e) {
        // Once the handler wrote its own answer (a stream), the error ends it as before.
        if (!res.headersSent) throw e;
        reply.hijack();
        admission?.failed((e as { status?: number }).status ?? 500);
        sendError(res, e);
        return;
      }
      if (!reply.sent && res.headersSent) reply.hijack();
      admission?.succeeded(res.statusCode);
      return reply;
    },
  };
}
