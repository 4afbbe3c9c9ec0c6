/**
 * The parts of a client's request and response the proxy path reads and writes. Node's HTTP/1.1
 * `IncomingMessage`/`ServerResponse` have them as they are; an HTTP/2 stream gets them from the
 * adapters of `http2-adapter.ts`, so both protocols go through one proxy path.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { RequestHead } from './request-guard.js';

/** A client's request as the router routes and forwards it (always in its HTTP/1.1 form). */
export interface ClientRequest extends RequestHead {
  /** Header names lower-cased, as Node's HTTP parser gives them. */
  readonly headers: IncomingHttpHeaders;
  /** The client's connection: who it is, and which port it reached. */
  readonly socket: { readonly remoteAddress?: string | undefined; readonly localPort?: number | undefined };
  /** Chunks of the body as they come. */
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  /** Stream the body into `destination` (with back-pressure). */
  pipe<T extends NodeJS.WritableStream>(destination: T): T;
}

/** The response the router writes back to the client. */
export interface ClientResponse {
  readonly headersSent: boolean;
  /** All of the response was handed to the connection (false when the client left first). */
  readonly writableFinished: boolean;
  /** Send the head; headers as an object or a flat `[name, value, …]` list. */
  writeHead(status: number, headers: OutgoingHttpHeaders | string[]): unknown;
  /** Write a chunk of the body; false asks to wait for `drain`. */
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  /** Cut the response short (the client sees it incomplete). */
  destroy(): unknown;
  /** The exchange with the client is over (finished, or the client went away). */
  on(event: 'close', listener: () => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
}
