/**
 * Upstream host names as a request or a config names them (a dynamic upstream's host header, its
 * `allowed_hosts`): a DNS name or an IP literal, in one canonical form so that an allowlist and an address
 * check see the host the connection will really go to.
 *
 * IPv4 is read the way the WHATWG URL standard reads hosts (§3.5 "ends in a number"): `127.1`, `0x7f.1`,
 * `0177.0.0.1` and `2130706433` are all 127.0.0.1 to browsers, to getaddrinfo and to curl, so they are
 * 127.0.0.1 here too, never a name that slips past an address check.
 */
import { isIP } from 'node:net';

export type UpstreamHost =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'ip'; readonly address: string; readonly family: 4 | 6 };

/** RFC 1123 §2.1 labels: letters, digits and inner hyphens, 1 to 63 characters. ASCII only (IDNs as A-labels). */
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** WHATWG URL "ends in a number": a last label of digits, or `0x` and hex digits, makes the host IPv4. */
const NUMERIC_LABEL = /^(?:[0-9]+|0x[0-9a-f]*)$/;
const MAX_NAME_LENGTH = 253;

/** Canonical IPv6 text (RFC 5952, lower case, compressed), without brackets. */
function canonicalIpv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** The WHATWG IPv4 parser's answer for a host that ends in a number, or undefined when it refuses it. */
function canonicalIpv4(host: string): string | undefined {
  try {
    const hostname = new URL(`http://${host}/`).hostname;
    return isIP(hostname) === 4 ? hostname : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a host: a DNS name (one trailing dot allowed and dropped), an IPv4 literal in any form browsers
 * accept, or an IPv6 literal with or without brackets. Undefined for anything else: a port, user
 * information, a zone id (`fe80::1%eth0`), spaces, non-ASCII text, empty labels.
 */
export function parseUpstreamHost(text: string): UpstreamHost | undefined {
  let host = text.toLowerCase();
  const bracketed = host.startsWith('[') && host.endsWith(']');
  if (bracketed) host = host.slice(1, -1);
  if (isIP(host) === 6) {
    // Node's isIP accepts a zone id; a zone names an interface of this machine, never a remote host.
    if (host.includes('%')) return undefined;
    return { kind: 'ip', address: canonicalIpv6(host), family: 6 };
  }
  if (bracketed) return undefined;
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.length > MAX_NAME_LENGTH) return undefined;
  const labels = host.split('.');
  if (!labels.every((label) => LABEL.test(label))) return undefined;
  if (NUMERIC_LABEL.test(labels.at(-1) ?? '')) {
    const address = canonicalIpv4(host);
    return address === undefined ? undefined : { kind: 'ip', address, family: 4 };
  }
  return { kind: 'name', name: host };
}

/**
 * True for the entries an upstream allowlist takes: a host `parseUpstreamHost` reads, or `*.` followed by
 * a DNS name (never by an IP literal: `*.0.0.1` is not a set of hosts).
 */
export function isUpstreamHostPattern(text: string): boolean {
  if (!text.startsWith('*.')) return parseUpstreamHost(text) !== undefined;
  const suffix = text.slice(2);
  return !suffix.endsWith('.') && parseUpstreamHost(suffix)?.kind === 'name';
}

/** The host as it goes into a URL authority or a Host header: IPv6 in brackets. */
export function formatUpstreamHost(host: UpstreamHost): string {
  if (host.kind === 'name') return host.name;
  return host.family === 6 ? `[${host.address}]` : host.address;
}
