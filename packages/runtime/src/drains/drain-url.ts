/** Which URLs may be log drains: http(s) or syslog(+tls) servers that are not the platform itself. */
import { type LookupAddress, type LookupOptions, lookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { drainErrors } from './errors.js';

/** The platform's own listeners, which a drain must not point at (it would feed itself). */
export interface SelfAddress {
  /** Ports the API and router listen on. */
  ports: readonly number[];
  /** The listen address and the base domain apps answer under. */
  hosts: readonly string[];
  /**
   * Accept drains on this machine's loopback (other than the platform's own ports). Off by
   * default: a drain is a server the platform connects to on the app's behalf, and on loopback
   * that reaches whatever listens there (the add-on servers, other apps' dynos). A platform
   * whose log collector runs on the same machine, and the tests, turn it on.
   */
  allowLoopback?: boolean;
}

/**
 * Why the platform must not connect to `address` (an IP) for a drain, or undefined:
 * link-local (169.254.0.0/16 holds the cloud metadata service, fe80::/10) and unspecified
 * addresses always; loopback unless `allowLoopback`.
 */
export function forbiddenDrainAddress(address: string, allowLoopback = false): string | undefined {
  const family = ipFamily(address);
  if (!family) return undefined;
  if (LINK_LOCAL_V4.check(address, family)) return 'is link-local (the cloud metadata service lives there)';
  if (LINK_LOCAL_V6.check(address, family)) return 'is link-local';
  if (UNSPECIFIED.check(address, family)) return 'is not an address a drain can have';
  if (LOOPBACK_NETS.check(address, family) && !allowLoopback) return LOOPBACK;
  return undefined;
}

// Block lists also match an IPv4 rule in its IPv4-mapped IPv6 forms (`::ffff:169.254.169.254`,
// written `::ffff:a9fe:a9fe` by the URL parser), which connect to the IPv4 address.
const blockList = (rules: [string, number, 'ipv4' | 'ipv6'][]) => {
  const b = new BlockList();
  for (const [net, prefix, family] of rules) b.addSubnet(net, prefix, family);
  return b;
};
const LINK_LOCAL_V4 = blockList([['169.254.0.0', 16, 'ipv4']]);
const LINK_LOCAL_V6 = blockList([['fe80::', 10, 'ipv6']]);
const UNSPECIFIED = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['::', 128, 'ipv6'],
]);
const LOOPBACK_NETS = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);

function ipFamily(address: string): 'ipv4' | 'ipv6' | undefined {
  const v = isIP(address);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

const LOOPBACK =
  "is this machine's loopback, where the platform's own services listen (a platform may allow loopback drains with its allowLoopbackDrains option)";

const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);

/**
 * A `dns.lookup` for drain connections that refuses what `forbiddenDrainAddress` refuses, so
 * a name that resolves to the metadata service (or is made to, later) is no way around the
 * check made when the drain was added.
 */
export function guardedLookup(allowLoopback = false): LookupFunction {
  // biome-ignore lint/suspicious/noExplicitAny: node:net's LookupFunction callback, whose overloads this one function serves
  return ((hostname: string, options: LookupOptions, callback: (...args: any[]) => void) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err);
      const list = addresses as LookupAddress[];
      const bad = list.map((x) => forbiddenDrainAddress(x.address, allowLoopback)).find(Boolean);
      if (bad) return callback(Object.assign(new Error(`drain host ${hostname} ${bad}`), { code: 'EACCES' }));
      if (options.all) return callback(null, list);
      const first = list[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  }) as LookupFunction;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

function isLocal(host: string, self: SelfAddress): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const family = ipFamily(h);
  if (family && (LOOPBACK_NETS.check(h, family) || UNSPECIFIED.check(h, family))) return true;
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
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (METADATA_NAMES.has(host)) throw fail(`host ${host} is the cloud metadata service`);
  const forbidden = isIP(host)
    ? forbiddenDrainAddress(host, self.allowLoopback)
    : !self.allowLoopback && isLocal(host, { ...self, hosts: [] })
      ? LOOPBACK
      : undefined;
  if (forbidden) throw fail(`host ${host} ${forbidden}`);
  return url;
}
