/**
 * Parses the Host header (RFC 9110 §7.2: `uri-host [ ":" port ]`) into the lower-case host name and
 * port that routes match. Only names a route `from` could name are accepted: DNS names (which covers
 * dotted IPv4) and bracketed IPv6 literals. Anything else is a 400, not a silent non-match.
 */

/**
 * Dot-separated DNS labels (RFC 1123 §2.1): letters, digits and hyphens, not at either end of a label,
 * at most 63 characters each. Labels cannot contain the dot, so the pattern cannot backtrack across them.
 */
const DNS_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const PORT = /^[0-9]{1,5}$/;
/** RFC 1035 §2.3.4 limits a name to 255 octets on the wire, which is 253 characters written out. */
const MAX_NAME_LENGTH = 253;

/**
 * Returns the host name (lower-case, one trailing dot removed, IPv6 in canonical form with brackets) and
 * the port when the header names one; undefined when the header is missing, empty or invalid.
 */
export function parseHostHeader(
  value: string | undefined,
): { hostname: string; port: number | undefined } | undefined {
  if (value === undefined || value === '') return undefined;
  const host = value.toLowerCase();
  const nameEnd = host.startsWith('[') ? host.indexOf(']') + 1 : portStart(host);
  if (nameEnd === 0) return undefined;
  const name = host.slice(0, nameEnd);
  const hostname = name.startsWith('[') ? canonicalIpv6(name) : dnsName(name);
  const port = nameEnd === host.length ? undefined : parsePort(host.slice(nameEnd));
  if (hostname === undefined || port === null) return undefined;
  return { hostname, port };
}

/** A DNS name has no colon, so the first one starts the port; a second one fails the port check. */
function portStart(host: string): number {
  const colon = host.indexOf(':');
  return colon === -1 ? host.length : colon;
}

/** `:port` → the port; null when it is not a number from 1 to 65535. */
function parsePort(text: string): number | null {
  const digits = text.slice(1);
  if (!text.startsWith(':') || !PORT.test(digits)) return null;
  const port = Number(digits);
  return port >= 1 && port <= 65535 ? port : null;
}

function dnsName(name: string): string | undefined {
  const withoutRoot = name.endsWith('.') ? name.slice(0, -1) : name;
  if (withoutRoot.length > MAX_NAME_LENGTH) return undefined;
  return DNS_NAME.test(withoutRoot) ? withoutRoot : undefined;
}

/** The WHATWG URL parser validates the literal and writes it the one way route `from` hosts are written. */
function canonicalIpv6(literal: string): string | undefined {
  try {
    const { hostname } = new URL(`http://${literal}/`);
    return hostname.startsWith('[') ? hostname : undefined;
  } catch {
    return undefined;
  }
}
