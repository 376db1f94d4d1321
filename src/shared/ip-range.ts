/**
 * IP ranges for `trusted_proxies`: CIDRs and single addresses, IPv4 and IPv6, compiled once into a
 * node:net BlockList so the per-request check is a lookup.
 */
import { BlockList, isIP } from 'node:net';

const PREFIX_LENGTH = /^\d{1,3}$/;

interface IpRange {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

function readIpRange(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return undefined;
  const maxPrefix = version === 4 ? 32 : 128;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (slash === -1) return { address, prefix: maxPrefix, family };
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!PREFIX_LENGTH.test(prefixText) || prefix > maxPrefix) return undefined;
  return { address, prefix, family };
}

/** True for `10.0.0.0/8`, `10.1.2.3`, `fd00::/8`, `::1`; false for anything else. */
export function isIpOrCidr(text: string): boolean {
  return readIpRange(text) !== undefined;
}

/**
 * Compiles CIDRs (or single IPs, as /32 or /128) into a membership test. Entries must already have
 * passed `isIpOrCidr`; an invalid one is a programmer mistake.
 *
 * Node reports IPv4 peers on dual-stack sockets as IPv4-mapped IPv6 (`::ffff:10.0.0.1`, RFC 4291
 * §2.5.5.2); BlockList treats those as the IPv4 address, so IPv4 ranges match them.
 */
export function compileIpRanges(cidrs: readonly string[]): (ip: string) => boolean {
  // The common case (no trusted proxies) costs nothing per request.
  if (cidrs.length === 0) return () => false;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const range = readIpRange(cidr);
    if (range === undefined) throw new TypeError(`"${cidr}" is not an IP address or CIDR`);
    list.addSubnet(range.address, range.prefix, range.family);
  }
  return (ip) => {
    const version = isIP(ip);
    if (version === 0) return false;
    return list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
  };
}
