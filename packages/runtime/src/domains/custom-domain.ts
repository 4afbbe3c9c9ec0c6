/** Which host names may be custom domains: public names of two labels or more, no addresses. */
import { isIP } from 'node:net';

/** Names every machine gives its own loopback address. */
const LOOPBACK_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);

/**
 * Why `hostname` cannot be a custom domain, or undefined. A bare IP (`127.0.0.1`, or `127.1`
 * and `2130706433`, which URL parsers read as one) would capture every request made to the
 * platform by address; a loopback name or a single label is no public name of an app.
 */
export function notACustomDomain(hostname: string): string | undefined {
  let parsed = hostname;
  try {
    parsed = new URL(`http://${hostname}/`).hostname;
  } catch {}
  if (isIP(hostname) || isIP(parsed) || /^\d+$/.test(hostname.split('.').pop() ?? ''))
    return 'is an IP address; a custom domain is a name such as www.example.com (requests by bare address reach no app)';
  if (LOOPBACK_NAMES.has(hostname) || hostname.endsWith('.localhost'))
    return 'is a loopback name; a custom domain is a public name such as www.example.com';
  if (!hostname.includes('.'))
    return 'is a single label; a custom domain is a full name such as www.example.com';
  return undefined;
}
