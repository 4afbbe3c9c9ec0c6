/**
 * The headers a dyno receives and the client gets back. Hop-by-hop headers stop at the router
 * (RFC 9110 §7.6.1); the router's own headers replace whatever a client sent under those names,
 * except `X-Forwarded-For` and `Via`, which are appended to (a client's value is kept as the
 * start of the chain, never trusted as the client's address).
 */

/** Value of `Via` added in both directions. */
export const VIA = '1.1 slipway';

/** Headers never forwarded as received. */
export const DROP_REQUEST = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'transfer-encoding',
  'expect',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-request-start',
  'via',
]);

/** A client may not make the router drop these by naming them in `Connection`. */
const NOT_DROPPABLE = new Set(['host', 'content-length', 'cookie', 'authorization']);

const DROP_RESPONSE = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'trailer',
  'via',
]);
/** The lengths of DROP_RESPONSE's names: only a name of one of these is lower-cased and looked up. */
const DROP_RESPONSE_LENGTHS = new Set([...DROP_RESPONSE].map((n) => n.length));

/** What the router adds to a forwarded request. */
export interface ForwardInfo {
  requestId: string;
  /** The full `X-Forwarded-For` chain: the client's value (if any), then its address. */
  forwardedFor: string;
  proto: 'http' | 'https';
  port: number;
  /** Epoch ms the router received the request. */
  start: number;
  /** Pass `Connection: Upgrade` and `Upgrade` through (WebSocket handshake). */
  upgrade: boolean;
  /**
   * The HTTP client frames the body itself (undici sends a body of unknown length chunked and
   * refuses a `Transfer-Encoding` header); otherwise `Transfer-Encoding: chunked` is said again.
   */
  clientFramesBody?: boolean;
}

function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      for (const t of raw[i + 1]!.split(',')) {
        const name = t.trim().toLowerCase();
        if (!name || NOT_DROPPABLE.has(name)) continue;
        tokens ??= new Set();
        tokens.add(name);
      }
    }
  }
  return tokens;
}

/** Request headers for the dyno, as a flat `[name, value, …]` list. */
export function upstreamRequestHeaders(raw: readonly string[], info: ForwardInfo): string[] {
  const out: string[] = [];
  const extra = connectionTokens(raw);
  let via: string | undefined;
  let upgrade: string | undefined;
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (DROP_REQUEST.has(lower)) {
      if (lower === 'via') via = via === undefined ? value : `${via}, ${value}`;
      else if (lower === 'transfer-encoding') chunked = true;
      else if (lower === 'upgrade') upgrade = value;
      continue;
    }
    if (extra?.has(lower)) continue;
    out.push(name, value);
  }
  // The guard allowed only `chunked`; say it again so the body stays framed the same way.
  if (chunked && !info.clientFramesBody) out.push('Transfer-Encoding', 'chunked');
  if (info.upgrade && upgrade !== undefined) out.push('Connection', 'Upgrade', 'Upgrade', upgrade);
  out.push(
    'X-Request-Id',
    info.requestId,
    'X-Forwarded-For',
    info.forwardedFor,
    'X-Forwarded-Proto',
    info.proto,
    'X-Forwarded-Port',
    String(info.port),
    'X-Request-Start',
    String(info.start),
    'Via',
    via === undefined ? VIA : `${via}, ${VIA}`,
  );
  return out;
}

/**
 * Response headers for the client from undici's raw `[name, value, …]` buffers, as a flat list
 * of latin1 strings (how Node's parser reads header bytes and how its server writes them back).
 */
export function downstreamResponseHeadersFromBuffers(raw: readonly Buffer[]): string[] {
  const out: string[] = [];
  let via: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const n = name.length;
    // Only names as long as one of DROP_RESPONSE's are lower-cased and looked up (hot path).
    if (DROP_RESPONSE_LENGTHS.has(n)) {
      const lower = name.toLowerCase();
      if (DROP_RESPONSE.has(lower)) {
        if (lower === 'via') via = raw[i + 1]!.toString('latin1');
        continue;
      }
    }
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  out.push('Via', via === undefined ? VIA : `${via}, ${VIA}`);
  return out;
}
