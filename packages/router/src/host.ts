/**
 * Host matching. A request reaches an app only through an exact match of its normalised Host:
 * `<app>.<base-domain>` or a custom domain the table knows. Never a substring or a prefix: a
 * Host such as `evilapp.example.com` must not reach `app`.
 */
import type { RouteTable } from './route-table.js';

const HOST_CHARS = /^[a-z0-9.-]+$/;
const PORT_SUFFIX = /:\d{1,5}$/;

/**
 * Lower-case a Host header, strip the port and one trailing dot. Returns undefined for anything
 * that is not a plain DNS name (control characters, spaces, user-info, IPv6 literals…).
 */
export function normalizeHost(raw: string | undefined): string | undefined {
  if (!raw || raw.length > 255) return undefined;
  let host = raw.toLowerCase().replace(PORT_SUFFIX, '');
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (!host || !HOST_CHARS.test(host) || host.startsWith('.') || host.endsWith('.') || host.includes('..'))
    return undefined;
  return host;
}

/** Normalise the platform's base domain the same way (so `Example.COM.` works in config). */
export function normalizeBaseDomain(base: string): string {
  const host = normalizeHost(base);
  if (!host) throw new Error(`invalid base domain "${base}"`);
  return host;
}

/**
 * App for a normalised host: the table's custom domains first, then `<app>.<base>` where the
 * app part is exactly one DNS label naming an app the table knows.
 */
export function resolveApp(host: string, baseDomain: string, table: RouteTable): string | undefined {
  const custom = table.appForHost(host);
  if (custom !== undefined) return custom;
  const suffixStart = host.length - baseDomain.length - 1;
  if (suffixStart < 1 || host.charCodeAt(suffixStart) !== 46 /* . */ || !host.endsWith(baseDomain))
    return undefined;
  const label = host.slice(0, suffixStart);
  if (label.includes('.')) return undefined;
  return table.route(label) ? label : undefined;
}
