/**
 * Which session credential a request presents (DESIGN §3), checked in this order: the session cookie;
 * `X-Pomerium-Authorization: <token>`; `Authorization: Pomerium <token>`; `Authorization: Bearer
 * Pomerium-<token>`. The first form present decides: a present-but-invalid credential is a 401 and never
 * falls through to a later one, so an attacker cannot steer which credential is believed by spoiling one.
 * A plain `Authorization: Bearer <other>` belongs to the upstream and is not a Gatehouse credential.
 */
import { readSessionCookie } from './session-cookie.js';

export type CredentialSource =
  'cookie' | 'x-pomerium-authorization' | 'authorization-pomerium' | 'authorization-bearer-pomerium';

export type PresentedCredential =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly source: CredentialSource; readonly token: string }
  /** Recognisably Gatehouse's, but unusable (no token, several differing cookies): answer 401. */
  | { readonly kind: 'invalid'; readonly source: CredentialSource; readonly reason: string };

/** Request headers as Node presents them: lowercase names. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** RFC 9110 §11.4: `<auth-scheme> [ 1*SP <credentials> ]`. */
const AUTHORIZATION = /^([^ ]+)(?: +(.*))?$/s;
const BEARER_PREFIX = 'pomerium-';

/** Which Gatehouse form an `Authorization` value is, if any, and the token it carries. */
function readAuthorization(value: string): PresentedCredential {
  const [, scheme = '', credentials] = AUTHORIZATION.exec(value) ?? [];
  // RFC 9110 §11.1: the scheme is case-insensitive. The `Pomerium-` prefix is matched the same way so that
  // no spelling of a Gatehouse token is mistaken for the upstream's and forwarded.
  switch (scheme.toLowerCase()) {
    case 'pomerium':
      return tokenOrInvalid('authorization-pomerium', credentials);
    case 'bearer':
      if (credentials?.slice(0, BEARER_PREFIX.length).toLowerCase() !== BEARER_PREFIX) {
        return { kind: 'none' };
      }
      return tokenOrInvalid('authorization-bearer-pomerium', credentials.slice(BEARER_PREFIX.length));
    default:
      return { kind: 'none' };
  }
}

function tokenOrInvalid(source: CredentialSource, token: string | undefined): PresentedCredential {
  const trimmed = token?.trim() ?? '';
  return trimmed === ''
    ? { kind: 'invalid', source, reason: 'no token' }
    : { kind: 'token', source, token: trimmed };
}

/** One header's value; a header sent several times is not one credential. */
function single(value: string | readonly string[] | undefined): string | undefined | null {
  if (typeof value === 'string' || value === undefined) return value;
  return value.length === 1 ? (value[0] ?? null) : null;
}

/** The credential the request presents, by the first form present; a pure function of the headers. */
export function extractCredential(headers: RequestHeaders, cookieName: string): PresentedCredential {
  const cookieHeader = headers.cookie;
  // HTTP/2 may split cookies over several fields; RFC 9113 §8.2.3 joins them with "; ".
  const cookies = typeof cookieHeader === 'string' ? cookieHeader : cookieHeader?.join('; ');
  const cookie = readSessionCookie(cookies, cookieName);
  if (cookie.kind === 'present') return tokenOrInvalid('cookie', cookie.value);
  if (cookie.kind === 'ambiguous') {
    return { kind: 'invalid', source: 'cookie', reason: `${cookie.count} differing session cookies` };
  }

  const headerToken = single(headers['x-pomerium-authorization']);
  if (headerToken === null) {
    return { kind: 'invalid', source: 'x-pomerium-authorization', reason: 'sent more than once' };
  }
  if (headerToken !== undefined) return tokenOrInvalid('x-pomerium-authorization', headerToken);

  const authorization = single(headers.authorization);
  if (typeof authorization === 'string') return readAuthorization(authorization.trim());
  return { kind: 'none' };
}

/** Whether an `Authorization` value is a Gatehouse credential, to be stripped before the upstream. */
export function isGatehouseAuthorization(value: string): boolean {
  return readAuthorization(value.trim()).kind !== 'none';
}
