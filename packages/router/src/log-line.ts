/**
 * The one router log line per request, in Heroku's format:
 * `at=info method=GET path="/" host=… request_id=… fwd="…" dyno=web.1 connect=1ms service=5ms status=200 bytes=… protocol=http`,
 * with `at=error code=H12 desc="Request timeout"` in front for errors.
 */

/** What the router knows about a finished request. */
export interface RequestRecord {
  code: string | undefined;
  desc: string | undefined;
  method: string;
  path: string;
  host: string;
  requestId: string;
  fwd: string;
  dyno: string;
  connectMs: number;
  serviceMs: number;
  status: number;
  bytes: number;
  protocol: 'http' | 'https';
}

// Quoted fields must not be able to forge a second field or line (log injection).
const UNSAFE_QUOTED = /["\\\x00-\x1f\x7f]/g;
const UNSAFE_BARE = /[\s"\\\x00-\x1f\x7f]/g;

function quoted(s: string): string {
  return `"${s.replace(UNSAFE_QUOTED, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`)}"`;
}

function bare(s: string): string {
  return s.replace(UNSAFE_BARE, '_');
}

/** Format a request as the router's log message. */
export function formatRequestLine(r: RequestRecord): string {
  const head = r.code ? `at=error code=${r.code} desc=${quoted(r.desc ?? '')} ` : 'at=info ';
  return (
    `${head}method=${bare(r.method)} path=${quoted(r.path)} host=${bare(r.host)} request_id=${bare(r.requestId)} ` +
    `fwd=${quoted(r.fwd)} dyno=${bare(r.dyno)} connect=${r.connectMs}ms service=${r.serviceMs}ms ` +
    `status=${r.status} bytes=${r.bytes} protocol=${r.protocol}`
  );
}
