/**
 * Host names in redirect allowlists (`programmatic_redirect_domain_whitelist`): what counts as a host,
 * checked at config load and used again by auth/redirect-allowlist.ts when it compiles the list.
 */
/**
 * WHATWG URL removes tabs and newlines anywhere and reads `\` as `/`; RFC 3986 parsers do neither.
 * Format characters (soft hyphen, zero-width and bidi controls) are mapped away or hidden by IDNA
 * (UTS #46 §4) and by display.
 */
export const AMBIGUOUS_URL_CHARACTER = /[\p{Cc}\p{Cf}\s\\]/u;
/** A canonical IPv4 literal as WHATWG URL writes every IPv4 form (`127.1`, `0x7f.1`, `2130706433`). */
const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/**
 * Characters that would make an allowlist entry more than a host: a path, query, fragment, user or escape,
 * or a wildcard anywhere but the leading `*.` (WHATWG URL accepts `*` in a host; host patterns do not).
 */
const NOT_IN_HOST = /[/?#@%*]/;

/**
 * An allowlist entry written the way WHATWG URL writes a URL's host, so both sides compare in one form;
 * undefined when the entry is not a host (a path, query, user, escape or whitespace in it).
 */
export function canonicalAllowlistHost(name: string): string | undefined {
  const literal = name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
  if (literal === '' || AMBIGUOUS_URL_CHARACTER.test(literal) || NOT_IN_HOST.test(literal)) return undefined;
  try {
    const url = new URL(`http://${literal}`);
    return url.host === url.hostname ? withoutTrailingDot(url.hostname) : undefined;
  } catch {
    return undefined;
  }
}

export function withoutTrailingDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/**
 * Hosts a browser treats as potentially trustworthy over plain http (W3C Secure Contexts §3.1): the
 * loopback addresses and `localhost` names, which RFC 6761 §6.3 reserves for the loopback interface.
 */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || IPV4_LOOPBACK.test(host);
}
