/**
 * Checks of a parsed request head that Node's parser (llhttp, strict mode) does not make.
 * llhttp already refuses Content-Length with Transfer-Encoding, duplicated or obfuscated
 * Transfer-Encoding, a space before the colon, bare CR/LF and folded headers. It accepts
 * `Transfer-Encoding: identity, chunked`, Transfer-Encoding on HTTP/1.0, a duplicated Host and
 * absolute-form targets; each of those can make the router and a dyno disagree about where a
 * request ends or which host it is for, so they are refused here. The tests cover both sets.
 */
import type { RouterLimits } from './limits.js';

/** The parts of a request head the guard reads. */
export interface RequestHead {
  method?: string | undefined;
  url?: string | undefined;
  httpVersion: string;
  rawHeaders: readonly string[];
}

const CONTENT_LENGTH = /^\d{1,15}$/;
const FORBIDDEN_IN_VALUE = /[\r\n\0]/;

/**
 * Why this request must be refused with H25 (400, connection closed), or undefined when it may
 * be routed.
 */
export function checkRequestHead(head: RequestHead, limits: RouterLimits): string | undefined {
  const method = head.method ?? '';
  const url = head.url ?? '';
  if (method.length + url.length + 10 > limits.requestLine)
    return `request line over ${limits.requestLine} bytes`;
  if (!(url.startsWith('/') || (url === '*' && method === 'OPTIONS'))) return 'request target must be a path';
  const raw = head.rawHeaders;
  if (raw.length / 2 > limits.headers) return `more than ${limits.headers} headers`;
  let hosts = 0;
  let te: string | undefined;
  let tes = 0;
  let cls = 0;
  let cl: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.length > limits.headerName) return `header name over ${limits.headerName} bytes`;
    if (value.length > limits.headerValue)
      return `header ${name.slice(0, 64)} over ${limits.headerValue} bytes`;
    if (FORBIDDEN_IN_VALUE.test(value)) return `header ${name.slice(0, 64)} has a control character`;
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') hosts++;
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          cls++;
          cl = value;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          tes++;
          te = value;
        }
        break;
    }
  }
  if (hosts !== 1) return hosts === 0 ? 'no Host header' : 'more than one Host header';
  if (tes > 0) {
    if (tes > 1 || cls > 0) return 'ambiguous body length (Transfer-Encoding)';
    if (te!.trim().toLowerCase() !== 'chunked') return 'Transfer-Encoding other than chunked';
    if (head.httpVersion !== '1.1') return 'Transfer-Encoding on HTTP/1.0';
  }
  if (cls > 1 || (cls === 1 && !CONTENT_LENGTH.test(cl!.trim()))) return 'invalid Content-Length';
  return undefined;
}
