/** Which URLs may be log drains: http(s) or syslog(+tls) servers that are not the platform itself. */
import { isIP } from 'node:net';
import { drainErrors } from './errors.js';

/** The platform's own listeners, which a drain must not point at (it would feed itself). */
export interface SelfAddress {
  /** Ports the API and router listen on. */
  ports: readonly number[];
  /** The listen address and the base domain apps answer under. */
  hosts: readonly string[];
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

function isLocal(host: string, self: SelfAddress): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1' || h === '::' || h === '0.0.0.0')
    return true;
  if (isIP(h) === 4 && h.startsWith('127.')) return true;
  return self.hosts.some((s) => h === s.toLowerCase() || h.endsWith(`.${s.toLowerCase()}`));
}

/** Parse and check a drain URL; a coded 422 says what is wrong with it. */
export function checkDrainUrl(raw: string, self: SelfAddress): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw drainErrors.SLIPWAY_ERR_RUNTIME_DRAIN_URL({ url: raw, detail: 'is not a URL' });
  }
  const fail = (detail: string) => drainErrors.SLIPWAY_ERR_RUNTIME_DRAIN_URL({ url: raw, detail });
  if (!['http:', 'https:', 'syslog:', 'syslog+tls:'].includes(url.protocol))
    throw fail(`scheme ${url.protocol.replace(/:$/, '')} is not http, https, syslog or syslog+tls`);
  if (!url.hostname) throw fail('has no host');
  if (url.protocol.startsWith('syslog') && !url.port) throw fail('a syslog drain needs a port');
  const port = Number(url.port) || DEFAULT_PORTS[url.protocol] || 0;
  if (self.ports.includes(port) && isLocal(url.hostname, self))
    throw fail(`points at the platform's own API or router (port ${port})`);
  return url;
}
