/**
 * The session cookie: writing it (`Set-Cookie`), reading it from a request, and cutting Gatehouse's cookies
 * out of the `Cookie` header before the request goes upstream. The only module that imports `cookie`.
 *
 * Reading and removal share one splitter, so the cookie the proxy authenticates with is exactly the one it
 * removes — a parser differential between the two would let a token slip through to the upstream.
 * The splitter reads RFC 6265 §4.2.1 leniently, as servers commonly do: pairs separated by `;`, whitespace
 * around names and values ignored, no percent-decoding (Gatehouse's values never need it).
 *
 * Duplicate names: a sibling subdomain can plant a second `_pomerium` cookie for `Domain=.example.com`
 * (cookie tossing), and the browser then sends both — with the attacker's first when its `Path` is longer.
 * Taking the first would sign the victim in as the attacker; taking the last is just as spoofable. So
 * several session cookies are only accepted when they carry the same value; otherwise the credential is
 * ambiguous, which the caller treats as invalid: a 401, never the attacker's session. Signing in again
 * replaces Gatehouse's own cookies (see buildSessionCookies); a cookie planted with another `Path` cannot be
 * cleared from here and keeps that path ambiguous until it expires — denial of service by a sibling host,
 * which can do that anyway, rather than session fixation.
 */
import { serialize } from 'cookie';
import {
  checkSessionCookieSettings,
  IPV4,
  normalizeDomain,
  type SessionCookieSettings,
} from '../config/cookie-settings.js';

export {
  checkSessionCookieSettings,
  DEFAULT_COOKIE_NAME,
  defaultSessionCookieSettings,
  type SameSite,
  type SessionCookieSettings,
} from '../config/cookie-settings.js';

/** RFC 6265 §4.1.1 cookie-octet: no CTLs (so no CR/LF), whitespace, DQUOTE, comma, `;` or backslash. */
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

function requireUsable(settings: SessionCookieSettings): void {
  const [problem] = checkSessionCookieSettings(settings);
  if (problem !== undefined) throw new TypeError(`unchecked cookie settings: ${problem}`);
}

/** The host without its port, lowercase; IPv6 literals keep their brackets. */
function hostName(host: string): string {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  return name.toLowerCase();
}

/**
 * The `Domain` to set on `host`: `cookie_domain` when the host domain-matches it (RFC 6265 §5.1.3),
 * otherwise none — a host outside `cookie_domain` gets a host-only cookie (the cross-apex hand-off).
 */
export function cookieDomainFor(settings: SessionCookieSettings, host: string): string | undefined {
  if (settings.domain === undefined) return undefined;
  const domain = normalizeDomain(settings.domain);
  const name = hostName(host);
  if (name.startsWith('[') || IPV4.test(name)) return undefined;
  return name === domain || name.endsWith(`.${domain}`) ? domain : undefined;
}

function serializeWith(
  settings: SessionCookieSettings,
  value: string,
  domain: string | undefined,
  maxAge: number,
): string {
  return serialize(settings.name, value, {
    // The value is checked against cookie-octet already; the default percent-encoding would only hide a bug.
    encode: (text) => text,
    path: '/',
    ...(domain === undefined ? {} : { domain }),
    maxAge,
    // Expires as well only when clearing: clients that ignore Max-Age still drop the cookie.
    ...(maxAge === 0 ? { expires: new Date(0) } : {}),
    httpOnly: settings.httpOnly,
    secure: settings.secure,
    sameSite: settings.sameSite,
  });
}

export interface SessionCookieValue {
  /** The session token. */
  readonly token: string;
  /** Milliseconds since the epoch; the session's expiry. */
  readonly expiresAt: number;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** The request's Host, which decides between `Domain=cookie_domain` and a host-only cookie. */
  readonly host: string;
}

function hostOnlyClearing(settings: SessionCookieSettings): string {
  return serializeWith(settings, '', undefined, 0);
}

/**
 * The `Set-Cookie` values that carry a session; `Max-Age` runs out no later than the session. When the
 * cookie goes to `cookie_domain`, a host-only cookie of the same name is cleared first: one left from before
 * `cookie_domain` was configured would otherwise be sent beside the new one, every request would be
 * ambiguous, and signing in again would never end the loop. Send them in this order (RFC 6265 §5.3 step 11:
 * on the apex both have the same domain, and the later replaces the earlier).
 */
export function buildSessionCookies(value: SessionCookieValue, settings: SessionCookieSettings): string[] {
  requireUsable(settings);
  if (value.token === '' || !COOKIE_VALUE.test(value.token)) {
    throw new TypeError(
      'a session cookie value must be non-empty cookie-octets (no CR, LF, ";", space or quote)',
    );
  }
  const maxAge = Math.floor((value.expiresAt - value.now) / 1000);
  if (!Number.isSafeInteger(maxAge) || maxAge < 1) {
    throw new TypeError('the session expires in under a second');
  }
  const domain = cookieDomainFor(settings, value.host);
  const session = serializeWith(settings, value.token, domain, maxAge);
  return domain === undefined ? [session] : [hostOnlyClearing(settings), session];
}

/**
 * The `Set-Cookie` values that remove the session cookie on `host`: the host-only cookie always, and the
 * `cookie_domain` one when the host is inside it.
 */
export function buildClearSessionCookies(host: string, settings: SessionCookieSettings): string[] {
  requireUsable(settings);
  const domain = cookieDomainFor(settings, host);
  const hostOnly = hostOnlyClearing(settings);
  return domain === undefined ? [hostOnly] : [hostOnly, serializeWith(settings, '', domain, 0)];
}

interface CookiePair {
  readonly name: string;
  readonly value: string;
  /** The pair as it arrived, without the surrounding whitespace. */
  readonly text: string;
}

const OWS = /^[ \t]+|[ \t]+$/g;

/** A pair without `=` is a nameless cookie whose value is the whole pair, as RFC 6265bis stores it. */
function splitCookieHeader(header: string): CookiePair[] {
  const pairs: CookiePair[] = [];
  for (const segment of header.split(';')) {
    const text = segment.replace(OWS, '');
    if (text === '') continue;
    const equals = text.indexOf('=');
    pairs.push(
      equals === -1
        ? { name: '', value: text, text }
        : {
            name: text.slice(0, equals).replace(OWS, ''),
            value: text.slice(equals + 1).replace(OWS, ''),
            text,
          },
    );
  }
  return pairs;
}

export type SessionCookieRead =
  | { readonly kind: 'absent' }
  | { readonly kind: 'present'; readonly value: string }
  /** Several cookies of that name with different values: treat as an invalid credential. */
  | { readonly kind: 'ambiguous'; readonly count: number };

/** The session cookie in a `Cookie` header. Names are case-sensitive (RFC 6265 §5.4 compares octets). */
export function readSessionCookie(cookieHeader: string | undefined, name: string): SessionCookieRead {
  if (cookieHeader === undefined) return { kind: 'absent' };
  const values = splitCookieHeader(cookieHeader)
    .filter((pair) => pair.name === name)
    .map((pair) => pair.value);
  const [first] = values;
  if (first === undefined) return { kind: 'absent' };
  if (values.some((value) => value !== first)) return { kind: 'ambiguous', count: values.length };
  return { kind: 'present', value: first };
}

/**
 * The `Cookie` header without the named cookies, every other pair byte for byte as it arrived (joined by
 * `; `, RFC 6265 §4.2.1), or `undefined` when nothing is left. Unchanged when none of them is present.
 */
export function removeCookie(cookieHeader: string | undefined, names: readonly string[]): string | undefined {
  if (cookieHeader === undefined) return undefined;
  const pairs = splitCookieHeader(cookieHeader);
  const kept = pairs.filter((pair) => !names.includes(pair.name));
  if (kept.length === 0) return undefined;
  if (kept.length === pairs.length) return cookieHeader;
  return kept.map((pair) => pair.text).join('; ');
}

/** A sign-in's CSRF binding cookie (login-transaction.ts), as `Set-Cookie` wants it. */
export interface CsrfCookieValue {
  readonly name: string;
  readonly value: string;
  readonly maxAgeSeconds: number;
}

/**
 * The CSRF cookie of one sign-in: host-only on the callback host and sent only to the callback path, so
 * no upstream ever sees it. `SameSite=Lax`, whatever `cookie_same_site` says: the callback is a top-level
 * navigation coming back from the IdP's site, which a `Strict` cookie would miss.
 */
export function buildCsrfCookie(csrf: CsrfCookieValue, secure: boolean, path: string): string {
  if (!COOKIE_VALUE.test(csrf.value)) throw new TypeError('a CSRF cookie value must be cookie-octets');
  return serialize(csrf.name, csrf.value, {
    encode: (text) => text,
    path,
    maxAge: csrf.maxAgeSeconds,
    httpOnly: true,
    secure,
    sameSite: 'lax',
  });
}

/** Removes a sign-in's CSRF cookie once its callback has been handled. */
export function buildClearCsrfCookie(name: string, secure: boolean, path: string): string {
  return serialize(name, '', {
    path,
    maxAge: 0,
    expires: new Date(0),
    httpOnly: true,
    secure,
    sameSite: 'lax',
  });
}
