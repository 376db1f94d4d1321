/**
 * A sign-in request handed from a route host to the authenticate host (`authenticate_service_url`) in a
 * URL: `/oauth2/start?login=<payload>.<tag>`. The route host cannot set the CSRF cookie the callback
 * host needs, so it sends the browser there with what the sign-in is for, and the authenticate host
 * starts the login transaction. The payload is signed (HMAC-SHA256 under a key derived from
 * `shared_secret`) and expires, so the return URL is always one a Gatehouse minted: a user can neither
 * choose it nor replay a stale one after its ten minutes. Nothing is stored until the authenticate host
 * begins the transaction.
 *
 * The payload is not secret (a return URL the user already visited), only unforgeable.
 */
import { GatehouseError } from '../shared/errors.js';
import { isMacOf, macOf } from './keyed-mac.js';
import { LOGIN_TRANSACTION_TTL_MS, type LoginRequest } from './login-transaction.js';
import type { KeyRing } from './secrets.js';

const SIGNED = /^([A-Za-z0-9_-]{1,8192})\.([A-Za-z0-9_-]{43})$/;

const invalid = (reason: string) =>
  new GatehouseError(
    'ERR_LOGIN_STATE_INVALID',
    'this sign-in link has expired or is not valid; please start again',
    {
      cause: new Error(reason),
    },
  );

/** Signs `request`; good for as long as a login transaction would be. */
export function signLoginRequest(request: LoginRequest, key: KeyRing, now: number): string {
  const payload = Buffer.from(JSON.stringify({ ...request, exp: now + LOGIN_TRANSACTION_TTL_MS })).toString(
    'base64url',
  );
  return `${payload}.${macOf(key.current, payload)}`;
}

/** The request a signed value carries; ERR_LOGIN_STATE_INVALID when forged, malformed or expired. */
export function verifyLoginRequest(signed: string | undefined, key: KeyRing, now: number): LoginRequest {
  const [, payload, tag] = SIGNED.exec(signed ?? '') ?? [];
  if (payload === undefined || tag === undefined) throw invalid('missing or malformed');
  if (!isMacOf(tag, payload, [key.current, ...key.previous])) throw invalid('not signed by this Gatehouse');
  const fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const { returnUrl, routeHost, mode, programmaticRedirect, exp } = fields;
  if (typeof exp !== 'number' || exp <= now) throw invalid('expired');
  if (typeof returnUrl !== 'string' || typeof routeHost !== 'string') throw invalid('incomplete');
  if (mode === 'cookie') return { returnUrl, routeHost, mode };
  if (mode === 'programmatic' && typeof programmaticRedirect === 'string') {
    return { returnUrl, routeHost, mode, programmaticRedirect };
  }
  throw invalid('unknown mode');
}
