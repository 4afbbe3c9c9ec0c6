/**
 * The dashboard's static files on the API's origin: `/dashboard` (index.html) and
 * `/dashboard/assets/<file>` (Vite's hashed bundles, cached for a year). Every answer carries a
 * strict Content-Security-Policy: scripts, styles and requests from this origin only, no inline
 * code, no framing.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { type RouteRegistrar, sendJson } from '../api/http-util.js';
import { runtimeErrors } from '../errors.js';

/** The dashboard's Content-Security-Policy. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Where `npm run build` put the dashboard (`@slipway/dashboard`'s dist/public), if installed. */
export function defaultDashboardDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@slipway/dashboard/package.json');
    return join(dirname(pkg), 'dist', 'public');
  } catch {
    return undefined;
  }
}

/** Register the dashboard's routes. */
export function registerDashboardRoutes(on: RouteRegistrar, dir: string | undefined): void {
  const notBuilt = () =>
    runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
      what: 'the dashboard',
      hint: 'Build it with `npm run build` at the repository root (it runs Vite in packages/dashboard).',
    });
  const serve = async (res: import('node:http').ServerResponse, file: string, cache: string) => {
    if (!dir) throw notBuilt();
    let body: Buffer;
    try {
      body = await readFile(join(dir, file));
    } catch {
      throw file === 'index.html'
        ? notBuilt()
        : runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
            what: `dashboard file ${file}`,
            hint: 'Reload the page.',
          });
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': cache,
      'content-security-policy': DASHBOARD_CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
    res.end(body);
  };
  on('GET', '/', async (_q, res) => {
    res.writeHead(302, { location: '/dashboard' });
    res.end();
  });
  on('GET', '/dashboard', (_q, res) => serve(res, 'index.html', 'no-cache'));
  on('GET', '/dashboard/assets/:file', async (_q, res, p) => {
    const file = p.file as string;
    if (!/^[\w-]+(\.[\w-]+)*$/.test(file))
      return sendJson(res, 404, { id: 'not_found', message: 'no such file' });
    await serve(res, join('assets', file), 'public, max-age=31536000, immutable');
  });
}
