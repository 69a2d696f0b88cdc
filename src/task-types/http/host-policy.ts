import { BlockList, isIP } from 'node:net';

/**
 * What an address may be used for:
 * - forbidden: never connected to, whatever HTTP_TASK_ALLOWED_HOSTS says (link-local, cloud metadata,
 *   unspecified, multicast, reserved);
 * - private: loopback and private networks, reachable only through a host listed exactly (not by a
 *   `*.` pattern);
 * - public: everything else, reachable through any allowed host.
 */
export type AddressClass = 'forbidden' | 'private' | 'public';

/** Ranges by class; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is checked against the IPv4 ranges. */
const FORBIDDEN: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'], // "this network", unspecified
  ['169.254.0.0', 16, 'ipv4'], // link-local, incl. 169.254.169.254 (AWS, GCP, Azure metadata)
  ['100.100.100.200', 32, 'ipv4'], // Alibaba Cloud metadata
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, broadcast
  ['::', 128, 'ipv6'], // unspecified
  ['fe80::', 10, 'ipv6'], // link-local
  ['fd00:ec2::254', 128, 'ipv6'], // AWS metadata over IPv6
  ['ff00::', 8, 'ipv6'], // multicast
];
const PRIVATE: [string, number, 'ipv4' | 'ipv6'][] = [
  ['127.0.0.0', 8, 'ipv4'], // loopback
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
  ['198.18.0.0', 15, 'ipv4'], // benchmarking
  ['::1', 128, 'ipv6'], // loopback
  ['fc00::', 7, 'ipv6'], // unique local
  ['fec0::', 10, 'ipv6'], // site-local (deprecated)
  ['64:ff9b::', 96, 'ipv6'], // NAT64: reaches IPv4 addresses through the local translator
];

function blockListOf(ranges: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) list.addSubnet(network, prefix, family);
  return list;
}

const forbiddenList = blockListOf(FORBIDDEN);
const privateList = blockListOf(PRIVATE);

/** Class of an IP address literal (a zone such as `%eth0` is ignored); throws for a non-address. */
export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) throw new Error(`not an IP address: ${address}`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (forbiddenList.check(bare, type)) return 'forbidden';
  if (privateList.check(bare, type)) return 'private';
  return 'public';
}

/** A URL's hostname as compared: lower case, without IPv6 brackets or a trailing dot. */
export function normalizeHost(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** How a host matched HTTP_TASK_ALLOWED_HOSTS: by an exact entry, by a `*.` pattern, or not at all. */
export type HostMatch = 'exact' | 'pattern' | 'none';

/**
 * HTTP_TASK_ALLOWED_HOSTS as a policy. Entries (parsed in config/http-task-config.ts) are exact host
 * names or IP addresses, or `*.example.com` (any name below example.com, not example.com itself).
 * Ports are not part of the policy.
 */
export class HostPolicy {
  private readonly exact: Set<string>;
  private readonly suffixes: string[];

  constructor(entries: readonly string[]) {
    this.exact = new Set(entries.filter((e) => !e.startsWith('*.')).map(normalizeHost));
    this.suffixes = entries.filter((e) => e.startsWith('*.')).map((e) => normalizeHost(e.slice(1)));
  }

  /** No entry: the http type is disabled. */
  get enabled(): boolean {
    return this.exact.size > 0 || this.suffixes.length > 0;
  }

  match(hostname: string): HostMatch {
    const host = normalizeHost(hostname);
    if (this.exact.has(host)) return 'exact';
    if (isIP(host) === 0 && this.suffixes.some((suffix) => host.endsWith(suffix))) return 'pattern';
    return 'none';
  }

  /**
   * Why `address` (what `hostname` resolved to, or the host itself when it is an IP literal) may not
   * be connected to; undefined when it may.
   */
  addressProblem(hostname: string, address: string): string | undefined {
    const kind = classifyAddress(address);
    if (kind === 'forbidden') return `${address} is a link-local, metadata or reserved address`;
    if (kind === 'private' && this.match(hostname) !== 'exact') {
      return `${address} is a loopback or private address, allowed only for a host listed exactly in HTTP_TASK_ALLOWED_HOSTS`;
    }
    return undefined;
  }

  /** Why a URL's host may not be called at all; undefined when it may (its addresses are checked at connect time). */
  hostProblem(hostname: string): string | undefined {
    if (!this.enabled) return 'http tasks are disabled: HTTP_TASK_ALLOWED_HOSTS is empty';
    const host = normalizeHost(hostname);
    if (this.match(host) === 'none') return `host "${host}" is not allowed by HTTP_TASK_ALLOWED_HOSTS`;
    // An IP literal is connected to without a lookup: its address is checked here.
    return isIP(host) === 0 ? undefined : this.addressProblem(host, host);
  }
}
