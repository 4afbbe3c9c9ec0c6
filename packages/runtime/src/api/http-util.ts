/** Small helpers of the API server: JSON bodies with limits, answers, and coded error replies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkSchema, errorAnswer } from '@slipway/core';
import { runtimeErrors } from '../errors.js';

/** Largest source upload (a deploy archive or a git push) unless the platform says otherwise. */
export const DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024;

/**
 * One API route: path parameters decoded, the parsed URL for the query, and the JSON body when
 * the route declares a `body` schema (already validated; otherwise the request stream is unread,
 * for uploads and git).
 */
export type RouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
  url: URL,
  body?: unknown,
) => Promise<void>;

/** What a route declares beside its handler: JSON Schemas (they also make /openapi.json). */
export interface RouteSpec {
  /** The JSON body's schema: the body is parsed and checked (coded 400/422) before the handler. */
  body?: object;
  /** Answer schemas by status; fields outside them are not sent, so they list every field. */
  response?: Record<number, object>;
  /** One line for the OpenAPI document. */
  summary?: string;
}

/** How route modules register on `createApiServer`'s router. */
export type RouteRegistrar = (method: string, path: string, h: RouteHandler, spec?: RouteSpec) => void;

/** Framework replies of the raw responses: `sendJson` answers through them (response schemas). */
export const jsonReplies = new WeakMap<ServerResponse, (status: number, body: unknown) => void>();

/** Read the whole body, refusing more than `limit` bytes (413) without buffering the rest. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(runtimeErrors.SLIPWAY_ERR_RUNTIME_BODY_TOO_LARGE({ limit }));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(runtimeErrors.SLIPWAY_ERR_RUNTIME_BODY_TOO_LARGE({ limit }));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parse and validate a JSON body against a JSON Schema (ajv); coded 400/422 on failure. */
export async function readJson<T>(
  req: IncomingMessage,
  schema: object,
  route: string,
  limit = 1 << 20,
): Promise<T> {
  const raw = (await readBody(req, limit)).toString('utf8');
  let data: unknown;
  try {
    data = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch (e) {
    throw runtimeErrors.SLIPWAY_ERR_RUNTIME_BAD_JSON({ detail: (e as Error).message });
  }
  const [problem] = checkSchema(schema, data);
  if (problem)
    throw runtimeErrors.SLIPWAY_ERR_RUNTIME_INVALID_BODY({
      field: problem.field,
      detail: problem.detail,
      route,
    });
  return data as T;
}

/** Answer with JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const reply = jsonReplies.get(res);
  if (reply) {
    reply(status, body);
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Answer with Heroku's `{ id, message }` error shape (plus code and hint). */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.end(`\n !     ${(err as Error)?.message ?? err}\n`);
    return;
  }
  const { status, body } = errorAnswer(err);
  sendJson(res, status, body);
}

/** Bytes a streamed answer (log tail, build output) may have waiting for a slow client. */
export const MAX_PENDING_STREAM_BYTES = 1 << 20;

/**
 * A line writer for a long-lived streamed answer that never buffers more than `limit` bytes for
 * a client that reads slowly (or not at all, e.g. a paused pager): lines beyond it are dropped,
 * and once the client catches up it is told how many, logplex style.
 */
export function boundedLineWriter(
  res: ServerResponse,
  limit = MAX_PENDING_STREAM_BYTES,
): (line: string) => void {
  let dropped = 0;
  return (line) => {
    if (res.destroyed || res.writableEnded) return;
    if (res.writableLength > limit) {
      dropped++;
      return;
    }
    if (dropped) {
      res.write(
        `Error L10 (output buffer overflow): ${dropped} lines dropped (the client read too slowly)\n`,
      );
      dropped = 0;
    }
    res.write(`${line}\n`);
  };
}
