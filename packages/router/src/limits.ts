/** Size limits of requests and in-flight caps, with Heroku's values as defaults. */

/** Request size limits (H25 beyond) and concurrency caps (H11 beyond). */
export interface RouterLimits {
  /** Bytes of the request line (`GET /path HTTP/1.1`). */
  requestLine: number;
  /** Bytes of one header value. */
  headerValue: number;
  /** Bytes of one header name. */
  headerName: number;
  /** Number of request headers. */
  headers: number;
  /** Total bytes of the request head; the HTTP parser closes the connection beyond it. */
  headBytes: number;
  /** Requests one router sends to one dyno at the same time. */
  inFlightPerDyno: number;
  /** Requests waiting for a free dyno, per dyno of the app, before H11. */
  backlogPerDyno: number;
}

/** Heroku's limits. */
export const DEFAULT_LIMITS: Readonly<RouterLimits> = Object.freeze({
  requestLine: 8192,
  headerValue: 8192,
  headerName: 1000,
  headers: 1000,
  headBytes: 256 * 1024,
  inFlightPerDyno: 50,
  backlogPerDyno: 50,
});

/** Router timeouts in milliseconds (Heroku's by default; tests shorten them). */
export interface RouterTimeouts {
  /** Connecting to a dyno; beyond it the dyno is quarantined and the request retried (H19). */
  connect: number;
  /** From the request being routed to the first response byte (H12). */
  firstByte: number;
  /** Rolling idle window once the response has started, and for WebSockets (H15). */
  idle: number;
  /** How long a dyno that refused or timed out a connection gets no requests. */
  quarantine: number;
  /** Idle keep-alive client connections are closed after this. */
  keepAlive: number;
  /** Time a client has to send the request head. */
  headers: number;
}

/** Heroku's timeouts. */
export const DEFAULT_TIMEOUTS: Readonly<RouterTimeouts> = Object.freeze({
  connect: 5_000,
  firstByte: 30_000,
  idle: 55_000,
  quarantine: 5_000,
  keepAlive: 60_000,
  headers: 30_000,
});
