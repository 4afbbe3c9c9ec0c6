/**
 * The add-on SDK's HTTP servers (the partner API, the callback listener) on Fastify, like the
 * platform API: JSON bodies parsed with a limit and checked with ajv against the route's schema,
 * and one error handler answering in the platform's one error shape (`errorAnswer` of core:
 * `{ id, code, message, hint }`), with the provider's secrets redacted from messages.
 */
import { checkSchema, errorAnswer, isSlipwayError } from '@slipway/core';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { addonErrors } from './errors.js';

/** Options of `createJsonServer`. */
export interface JsonServerOptions {
  /** Largest accepted body in bytes. */
  bodyLimit: number;
  /** Applied to every error message (a provider's secrets). */
  redact?: (text: string) => string;
  /** Told of errors that are the server's fault (500). */
  onInternalError?: (method: string, url: string, message: string) => void;
}

/** Headers an error wants on its answer (`www-authenticate`, `allow`). */
export type WithHeaders = { headers?: Record<string, string> };

/** A Fastify instance with the SDK's JSON parsing, validation and error answers. */
export function createJsonServer(opts: JsonServerOptions): FastifyInstance {
  const redact = opts.redact ?? ((t: string) => t);
  const app = Fastify({
    logger: false,
    exposeHeadRoutes: false,
    bodyLimit: opts.bodyLimit,
    requestTimeout: 60_000,
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1000 },
  });
  app.removeAllContentTypeParsers();
  // Any content type is read as JSON (consumers do not all send one); empty is `{}`.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, text, done) => {
    const raw = String(text);
    try {
      done(null, raw.trim() === '' ? {} : JSON.parse(raw));
    } catch (e) {
      done(addonErrors.SLIPWAY_ERR_ADDON_HTTP_JSON({ detail: (e as Error).message }));
    }
  });
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined) request.body = {};
  });
  app.setValidatorCompiler(({ schema }) => (data: unknown) => {
    const [problem] = checkSchema(schema, data);
    return problem
      ? { error: addonErrors.SLIPWAY_ERR_ADDON_HTTP_BODY({ detail: `${problem.field} ${problem.detail}` }) }
      : { value: data };
  });
  app.setErrorHandler((err: FastifyError & WithHeaders, request, reply) => {
    if (!request.raw.complete) request.raw.resume();
    const e =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? addonErrors.SLIPWAY_ERR_ADDON_HTTP_TOO_LARGE({ limit: opts.bodyLimit })
        : err;
    const { status, body } = errorAnswer(e, redact);
    // A provider's own refusal (unknown plan, bad option) is the caller's problem: 404 when it
    // names a missing thing, else 422, as the partner API has always answered.
    const answered =
      isSlipwayError(e) && !e.code.startsWith('SLIPWAY_ERR_ADDON_HTTP_') && status < 500
        ? status === 404
          ? 404
          : 422
        : status;
    if (answered >= 500) opts.onInternalError?.(request.method, request.url, body.message);
    for (const [k, v] of Object.entries(err.headers ?? {})) reply.header(k, v);
    reply.code(answered).send(body);
  });
  return app;
}
