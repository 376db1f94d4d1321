/**
 * The only redirect targets Gatehouse follows that a URL names: the programmatic-login redirect a client
 * asks for (`/.pomerium/api/v1/login?pomerium_redirect_uri=…`, DESIGN §4.2), checked against
 * `programmatic_redirect_domain_whitelist`, and the return URL of a browser sign-in, which the proxy
 * minted itself and which must stay on the origin that started the sign-in (DESIGN §4.1).
 *
 * The host is decided once, by the WHATWG URL parser — the parser the browser following the redirect
 * uses — and the caller redirects to the returned URL's `href`, never to the input: the host that was
 * checked is the host that is sent. Inputs that other URL parsers read differently (RFC 3986 parsers in
 * logs, CLIs, older libraries) are refused outright rather than normalized: backslashes, whitespace and
 * control characters (which WHATWG strips or turns into `/`), a missing `//` after the scheme,
 * user information, and percent-encoded hosts.
 */
import type { Parsed } from '../config/urls.js';
import {
  AMBIGUOUS_URL_CHARACTER,
  canonicalAllowlistHost,
  isLoopbackHost,
  withoutTrailingDot,
} from '../config/redirect-hosts.js';
import { compileHostPattern } from '../shared/host-pattern.js';

/** RFC 3986 §3.2: the authority ends at the next `/`, `?` or `#` (`\` is refused before this runs). */
const AUTHORITY_END = /[/?#]/;

/**
 * Compiles `programmatic_redirect_domain_whitelist` into the check of a `pomerium_redirect_uri`.
 * Entries are host names (case-insensitive, Unicode or punycode, one trailing dot ignored), IP literals
 * (`127.0.0.1`, `[::1]`), or `*.example.com` for any name one or more labels below example.com. Any port
 * on an allowed host is allowed: CLIs listen on whatever port they got. Throws a TypeError for an entry
 * that is not a host; the config must have refused it.
 */
export function compileProgrammaticRedirectCheck(
  allowedHosts: readonly string[],
): (uri: string) => Parsed<URL> {
  const matchers = allowedHosts.map(compileAllowedHost);
  return (uri) => {
    const parsed = parseHttpUrl(uri);
    if (!parsed.ok) return parsed;
    const url = parsed.value;
    const host = withoutTrailingDot(url.hostname);
    if (!matchers.some((isAllowed) => isAllowed(host))) {
      return refuse(`names host "${host}", which is not in programmatic_redirect_domain_whitelist`);
    }
    // The target receives the session token in its query (`pomerium_jwt`): over plain http anyone on the
    // path could read it, except on the loopback interface, where native-app redirects live (RFC 8252 §7.3).
    if (url.protocol === 'http:' && !isLoopbackHost(host)) {
      return refuse('uses plain http, which is allowed only to loopback hosts; use https');
    }
    url.hostname = host;
    return { ok: true, value: url };
  };
}

/** {@link compileProgrammaticRedirectCheck} for one URI. */
export function checkProgrammaticRedirect(uri: string, allowedHosts: readonly string[]): Parsed<URL> {
  return compileProgrammaticRedirectCheck(allowedHosts)(uri);
}

/**
 * Checks a sign-in return URL against the origin (`scheme://host[:port]`) of the request that started the
 * sign-in: same scheme, host and port, no user information, and a path that does not start with `//`,
 * which would turn into another host if the path were ever used alone as a relative reference
 * (RFC 3986 §4.2). Throws a TypeError when `request.origin` is not an http(s) origin.
 */
export function checkReturnUrl(returnUrl: string, request: { readonly origin: string }): Parsed<URL> {
  const expectedOrigin = originOf(request.origin);
  const parsed = parseHttpUrl(returnUrl);
  if (!parsed.ok) return parsed;
  const url = parsed.value;
  if (url.origin !== expectedOrigin) {
    return refuse(`is not on ${expectedOrigin}, the origin that started the sign-in`);
  }
  if (url.pathname.startsWith('//')) return refuse('has a path starting with "//"');
  return { ok: true, value: url };
}

/** An absolute http(s) URL written so that every URL parser finds the same authority in it. */
function parseHttpUrl(text: string): Parsed<URL> {
  if (AMBIGUOUS_URL_CHARACTER.test(text)) {
    return refuse('may not contain whitespace, control or invisible characters, or a backslash');
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse('is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refuse(`scheme "${url.protocol.slice(0, -1)}" is not http or https`);
  }
  // WHATWG reads `http:evil.com` and `http:///evil.com` as http://evil.com/; RFC 3986 §3 reads a path
  // with no host. Only `scheme://authority` means the same thing to both.
  const authority = authorityAsWritten(text, url.protocol);
  if (authority === undefined) return refuse(`must be written ${url.protocol}//host`);
  // WHATWG drops an empty user information (`http://@host`) and splits at the last `@`; other parsers
  // split at the first. No legitimate redirect target carries credentials.
  if (authority.includes('@')) return refuse('may not contain user information');
  // RFC 3986 §3.2.2 asks producers to write hosts in DNS syntax; an encoded one only hides the name.
  if (authority.includes('%')) return refuse('may not percent-encode its host');
  return { ok: true, value: url };
}

/** The authority between `scheme://` and the path; undefined when `//` is missing or nothing follows it. */
function authorityAsWritten(text: string, protocol: string): string | undefined {
  const prefix = `${protocol}//`;
  if (text.slice(0, prefix.length).toLowerCase() !== prefix) return undefined;
  const rest = text.slice(prefix.length);
  const end = rest.search(AUTHORITY_END);
  const authority = end === -1 ? rest : rest.slice(0, end);
  return authority === '' ? undefined : authority;
}

/** Writes an entry the way WHATWG URL writes the target's host, so both sides compare in one form. */
function compileAllowedHost(entry: string): (host: string) => boolean {
  const isWildcard = entry.startsWith('*.');
  const name = canonicalAllowlistHost(isWildcard ? entry.slice(2) : entry);
  if (name === undefined) {
    throw new TypeError(`programmatic_redirect_domain_whitelist entry "${entry}" is not a host name`);
  }
  return compileHostPattern(isWildcard ? `*.${name}` : name);
}

function originOf(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new TypeError(`"${origin}" is not an origin`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`"${origin}" is not an http or https origin`);
  }
  return url.origin;
}

function refuse(message: string): { ok: false; message: string } {
  return { ok: false, message };
}
