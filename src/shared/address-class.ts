/**
 * What kind of address an IP is, from the IANA special-purpose address registries (RFC 6890 and the RFCs
 * each range cites): a proxy that lets requests choose their upstream must not be turned against the
 * machine it runs on (loopback), its network (RFC 1918, ULA, CGNAT), or a cloud's metadata service
 * (169.254.169.254, link-local). Everything outside those ranges is `public`.
 *
 * IPv4 addresses carried inside IPv6 are judged by the IPv4 address: IPv4-mapped (`::ffff:127.0.0.1`,
 * RFC 4291 §2.5.5.2) because a dual-stack socket connects to the IPv4 address, and NAT64's well-known
 * prefix (`64:ff9b::/96`, RFC 6052) because a DNS64 resolver puts every IPv4-only host there.
 */
import { isIP } from 'node:net';
import { compileIpRanges } from './ip-range.js';

export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved';

type RangeTable = readonly (readonly [AddressClass, readonly string[]])[];

/** IANA IPv4 Special-Purpose Address Registry; first match wins. */
const IPV4_RANGES: RangeTable = [
  ['unspecified', ['0.0.0.0/8']], // RFC 1122 §3.2.1.3 "this network"; 0.0.0.0 reaches the local host
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']], // RFC 1918
  ['shared', ['100.64.0.0/10']], // RFC 6598, carrier-grade NAT
  ['loopback', ['127.0.0.0/8']], // RFC 1122
  ['link-local', ['169.254.0.0/16']], // RFC 3927; cloud metadata services live at 169.254.169.254
  ['reserved', ['192.0.0.0/24', '192.88.99.0/24']], // RFC 6890 protocol assignments; RFC 7526 6to4 relays
  ['documentation', ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24']], // RFC 5737
  ['benchmarking', ['198.18.0.0/15']], // RFC 2544
  ['multicast', ['224.0.0.0/4']], // RFC 5771
  ['broadcast', ['255.255.255.255/32']], // RFC 919
  ['reserved', ['240.0.0.0/4']], // RFC 1112 §4
];

/** IANA IPv6 Special-Purpose Address Registry, after the embedded-IPv4 forms; first match wins. */
const IPV6_RANGES: RangeTable = [
  ['unspecified', ['::/128']], // RFC 4291
  ['loopback', ['::1/128']], // RFC 4291
  // IPv4-compatible (deprecated by RFC 4291 §2.5.5.1), SIIT IPv4-translated (RFC 2765), discard-only
  // (RFC 6666), IETF protocol assignments incl. Teredo and ORCHID (RFC 2928), 6to4 (RFC 7526: it carries
  // an IPv4 address of its own), SRv6 SIDs (RFC 9602).
  ['reserved', ['::/96', '::ffff:0:0:0/96', '100::/64', '2001::/23', '2002::/16', '5f00::/16']],
  ['private', ['64:ff9b:1::/48']], // RFC 8215, local-use NAT64
  ['documentation', ['2001:db8::/32', '3fff::/20']], // RFC 3849, RFC 9637
  ['private', ['fc00::/7', 'fec0::/10']], // RFC 4193 unique local; RFC 3879 site-local
  ['link-local', ['fe80::/10']], // RFC 4291
  ['multicast', ['ff00::/8']], // RFC 4291
];

type Classifier = readonly (readonly [AddressClass, (ip: string) => boolean])[];

function compileTable(table: RangeTable): Classifier {
  return table.map(([kind, cidrs]) => [kind, compileIpRanges(cidrs)] as const);
}

const ipv4Classifier = compileTable(IPV4_RANGES);
const ipv6Classifier = compileTable(IPV6_RANGES);
/** RFC 4291 §2.4: global unicast is 2000::/3; anything else not listed above is unassigned. */
const isGlobalUnicastIpv6 = compileIpRanges(['2000::/3']);

/** The eight 16-bit groups of a valid IPv6 address (with `::` expanded and a trailing dotted quad read). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const read = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const gap = text.indexOf('::');
  if (gap === -1) return read(text);
  const head = read(text.slice(0, gap));
  const rest = read(text.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
}

/** The IPv4 address an IPv4-mapped or NAT64 well-known-prefix address carries, if it is one. */
function embeddedIpv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  const isMapped = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff;
  const isNat64 = g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0;
  if (!isMapped && !isNat64) return undefined;
  return `${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`;
}

function classifyWith(classifier: Classifier, ip: string): AddressClass | undefined {
  return classifier.find(([, matches]) => matches(ip))?.[0];
}

/**
 * The class of `ip`, an IPv4 address in dotted-decimal or an IPv6 address (as node:net's isIP accepts
 * them, without a zone id). Anything else is a programmer mistake: hosts are read by parseUpstreamHost and
 * addresses come from the resolver.
 */
export function classifyAddress(ip: string): AddressClass {
  const version = isIP(ip);
  if (version === 4) return classifyWith(ipv4Classifier, ip) ?? 'public';
  if (version !== 6 || ip.includes('%')) throw new TypeError(`"${ip}" is not an IP address`);
  const ipv4 = embeddedIpv4(ip);
  if (ipv4 !== undefined) return classifyAddress(ipv4);
  return classifyWith(ipv6Classifier, ip) ?? (isGlobalUnicastIpv6(ip) ? 'public' : 'reserved');
}
