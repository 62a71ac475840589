import { lookup } from 'node:dns/promises';
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Whether an address or a URL's host is on the public internet: the store POSTs a vendor's
 * webhooks from inside the operator's network, so a vendor must not be able to make it
 * reach loopback, private, link-local (cloud metadata at 169.254.169.254) or other
 * special-purpose addresses (RFC 6890 registries). Anything not clearly public is refused.
 */

/** IPv4 ranges that are not the public internet, as [network, prefix length]. */
export const NON_PUBLIC_IPV4: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local host
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT: inside a provider's network
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, the cloud metadata services
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relays (deprecated)
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255
];

/**
 * IPv6 is judged the other way round: only global unicast (2000::/3) can be public, so
 * ::1, ::, fc00::/7, fe80::/10, multicast and the rest need no rule of their own. Three
 * forms carry an IPv4 address that the connection ends up at, so they are as public as
 * the address they carry: IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and
 * 6to4 (2002:aabb:ccdd::).
 */
const IPV6_MAY_BE_PUBLIC: readonly (readonly [string, number])[] = [
  ['2000::', 3],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
];

const NON_PUBLIC_IPV6: readonly (readonly [string, number])[] = [
  ['2001::', 23], // IETF protocol assignments: Teredo, ORCHID, benchmarking
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
];

function hex16(high: number, low: number): string {
  return ((high << 8) | low).toString(16);
}

function blockList(
  ipv4: readonly (readonly [string, number])[],
  ipv6: readonly (readonly [string, number])[],
): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of ipv4) list.addSubnet(network, prefix, 'ipv4');
  for (const [network, prefix] of ipv6) list.addSubnet(network, prefix, 'ipv6');
  return list;
}

const nonPublic = blockList(NON_PUBLIC_IPV4, [
  ...NON_PUBLIC_IPV6,
  // Each non-public IPv4 range in the three IPv6 forms that carry an IPv4 address.
  ...NON_PUBLIC_IPV4.flatMap(([network, prefix]) => {
    const [a, b, c, d] = network.split('.').map(Number) as [number, number, number, number];
    return [
      [`::ffff:${network}`, 96 + prefix],
      [`64:ff9b::${network}`, 96 + prefix],
      [`2002:${hex16(a, b)}:${hex16(c, d)}::`, 16 + prefix],
    ] as const;
  }),
]);
const mayBePublic = blockList([], IPV6_MAY_BE_PUBLIC);

/** True when `address` (an IPv4 or IPv6 literal, no brackets) is a public address. */
export function isPublicAddress(address: string): boolean {
  if (isIPv4(address)) return !nonPublic.check(address, 'ipv4');
  // A zone (fe80::1%eth0) is only ever link-local; BlockList would misread it.
  if (!isIPv6(address) || address.includes('%')) return false;
  return mayBePublic.check(address, 'ipv6') && !nonPublic.check(address, 'ipv6');
}

/**
 * Names that reach the local host or the operator's own network whatever a DNS server
 * says: localhost (RFC 6761), the .internal (cloud providers) and .local (mDNS) domains,
 * and single-label names, which the resolver completes with the host's search domains.
 */
export function isPrivateName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (!name.includes('.')) return true;
  return (
    name.endsWith('.localhost') ||
    name.endsWith('.internal') ||
    name.endsWith('.local') ||
    name === 'localhost'
  );
}

/** Every address a host name resolves to (injectable: tests have no DNS). */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/** A URL's host as a connection sees it: an IP literal without its brackets, or a name. */
export function urlHost(url: URL): { address: string } | { name: string } {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIPv4(host) || isIPv6(host) ? { address: host } : { name: host };
}

/**
 * The addresses to connect to for `url` when every one of them is public, else undefined.
 * A name is resolved once here, and the caller connects to exactly these addresses (never
 * a second lookup, which could answer differently: DNS rebinding). Resolver errors
 * (ENOTFOUND, …) are thrown for the caller to judge.
 */
export async function publicAddressesOf(
  url: URL,
  resolve: Resolver,
): Promise<string[] | undefined> {
  const host = urlHost(url);
  if ('address' in host) return isPublicAddress(host.address) ? [host.address] : undefined;
  if (isPrivateName(host.name)) return undefined;
  const addresses = await resolve(host.name);
  if (addresses.length === 0) throw Object.assign(new Error('no address'), { code: 'ENOTFOUND' });
  return addresses.every(isPublicAddress) ? addresses : undefined;
}
