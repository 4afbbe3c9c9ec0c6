/**
 * Runs git's own `git http-backend` (CGI) for one request: the CGI environment goes in with an
 * argument array (no shell), the request body streams to its stdin, and its stdout is parsed
 * for the CGI header block and streamed back. The pack protocol stays git's business.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gitErrors } from './errors.js';

/** One CGI call. */
export interface BackendCall {
  /** Directory holding `<app>.git` bare repositories. */
  projectRoot: string;
  /** `/<app>.git/info/refs` … */
  pathInfo: string;
  query: string;
  remoteUser: string;
  /** Extra environment (push callback, git config through GIT_CONFIG_*). */
  env?: Record<string, string>;
  /** Refuse request bodies above this many bytes. */
  maxBodyBytes: number;
}

/** Split the CGI header block off the front of `buf`, if it is complete. */
function splitHeaders(buf: Buffer): { headers: [string, string][]; rest: Buffer } | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
  if (end < 0) return undefined;
  const sep = end === crlf ? 4 : 2;
  const headers = buf
    .subarray(0, end)
    .toString('latin1')
    .split(/\r?\n/)
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i).trim(), l.slice(i + 1).trim()] as [string, string];
    });
  return { headers, rest: buf.subarray(end + sep) };
}

/** Serve one smart-HTTP request through `git http-backend`; resolves when the answer is sent. */
export function runHttpBackend(req: IncomingMessage, res: ServerResponse, call: BackendCall): Promise<void> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/',
      GIT_PROJECT_ROOT: call.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: call.pathInfo,
      QUERY_STRING: call.query,
      REQUEST_METHOD: req.method ?? 'GET',
      REMOTE_USER: call.remoteUser,
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      GATEWAY_INTERFACE: 'CGI/1.1',
      ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      ...call.env,
    };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > call.maxBodyBytes) {
      req.resume();
      reject(gitErrors.SLIPWAY_ERR_GIT_TOO_LARGE({ limit: call.maxBodyBytes }));
      return;
    }
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let head: Buffer = Buffer.alloc(0);
    let started = false;
    let failure: Error | undefined;
    let received = 0;
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    req.on('data', (c: Buffer) => {
      received += c.length;
      if (received > call.maxBodyBytes && !failure) {
        failure = gitErrors.SLIPWAY_ERR_GIT_TOO_LARGE({ limit: call.maxBodyBytes });
        child.kill('SIGKILL');
        req.unpipe(child.stdin);
        req.resume();
      }
    });
    req.pipe(child.stdin);
    child.stdin.on('error', () => {
      // The backend may stop reading early (a refused push); its answer says why.
    });
    child.stdout.on('data', (c: Buffer) => {
      if (started) {
        res.write(c);
        return;
      }
      head = Buffer.concat([head, c]);
      const parsed = splitHeaders(head);
      if (!parsed) return;
      started = true;
      let status = 200;
      for (const [k, v] of parsed.headers) {
        if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10) || 200;
        else res.setHeader(k, v);
      }
      res.writeHead(status);
      if (parsed.rest.length) res.write(parsed.rest);
    });
    child.on('error', (e) => {
      failure ??= gitErrors.SLIPWAY_ERR_GIT_BACKEND({ detail: e.message });
    });
    child.on('close', (code) => {
      if (failure && !started) return reject(failure);
      if (!started)
        return reject(gitErrors.SLIPWAY_ERR_GIT_BACKEND({ detail: `exit ${code}: ${stderr.trim()}` }));
      res.end();
      resolve();
    });
  });
}
