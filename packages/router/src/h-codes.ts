/**
 * Heroku's router error codes: what each one answers and how it renders. The page is small and
 * self-contained (no assets), and JSON when the client asks for it, so API clients can parse it.
 */

/** One router error code. */
export interface HCode {
  /** `H12`. */
  code: string;
  /** HTTP status the client receives. */
  status: number;
  /** Heroku's short description, used in `desc="…"` of the log line. */
  desc: string;
  /** A sentence for the error page. */
  page: string;
}

function h(code: string, status: number, desc: string, page: string): HCode {
  return Object.freeze({ code, status, desc, page });
}

/** Every code the router answers or logs, keyed by code. */
export const H_CODES = Object.freeze({
  H10: h('H10', 503, 'App crashed', 'The application crashed and is not running.'),
  H11: h('H11', 503, 'Backlog too deep', 'The application is receiving more requests than it can serve.'),
  H12: h('H12', 503, 'Request timeout', 'The application did not answer in time.'),
  H13: h('H13', 503, 'Connection closed without response', 'The application closed the connection.'),
  H14: h('H14', 503, 'No web processes running', 'The application has no web dynos running.'),
  H15: h('H15', 503, 'Idle connection', 'The connection was idle for too long.'),
  H18: h('H18', 503, 'Server Request Interrupted', 'The application interrupted its response.'),
  H19: h('H19', 503, 'Backend connection timeout', 'The application did not accept the connection in time.'),
  H20: h('H20', 503, 'App boot timeout', 'The application is starting; try again shortly.'),
  H21: h('H21', 503, 'Backend connection refused', 'The application refused the connection.'),
  H25: h('H25', 400, 'HTTP Restriction', 'The request breaks an HTTP restriction of this platform.'),
  H27: h('H27', 499, 'Client Request Interrupted', 'The client closed the connection.'),
  H80: h('H80', 503, 'Maintenance mode', 'The application is down for maintenance; try again later.'),
  H81: h('H81', 503, 'Blank app', 'Nothing has been deployed to this application yet.'),
  H99: h('H99', 503, 'Platform error', 'The platform failed to route this request.'),
});

/** A key of H_CODES. */
export type HCodeName = keyof typeof H_CODES;

/** Answer for a host no app serves (not an H-code: Heroku answers 404 and logs nothing). */
export const NO_SUCH_APP = Object.freeze({ status: 404, desc: 'No such app', page: 'There is no app here.' });

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escape text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** True when the client prefers JSON (an API client) over an HTML page. */
export function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const json = accept.indexOf('application/json');
  if (json < 0) return false;
  const html = accept.indexOf('text/html');
  return html < 0 || json < html;
}

/** A rendered error answer: body and content type. */
export interface ErrorBody {
  contentType: string;
  body: string;
}

/** Render the page (or JSON) for an error answer. */
export function renderError(
  info: { code?: string; status: number; desc: string; page: string },
  requestId: string,
  accept: string | undefined,
): ErrorBody {
  if (wantsJson(accept)) {
    const body = JSON.stringify({
      id: (info.code ?? 'not_found').toLowerCase(),
      ...(info.code ? { code: info.code } : {}),
      message: info.desc,
      detail: info.page,
      request_id: requestId,
    });
    return { contentType: 'application/json; charset=utf-8', body };
  }
  const title = info.code ? `${info.desc} (${info.code})` : info.desc;
  const body = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:4em auto;color:#333}small{color:#888}</style></head>
<body><h1>${escapeHtml(info.desc)}</h1><p>${escapeHtml(info.page)}</p>
<p><small>${info.code ? `${escapeHtml(info.code)} · ` : ''}request ${escapeHtml(requestId)}</small></p></body></html>
`;
  return { contentType: 'text/html; charset=utf-8', body };
}
