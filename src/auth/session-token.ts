/**
 * The session token: a compact JWS (RFC 7515 §7.1) over `{"jti","iat","exp"}`, HS256 with the key derived
 * from `shared_secret`. The same string is the cookie value and the header token. It only names a session
 * record; the caller must still find the record, so deleting it revokes every copy of the token.
 *
 * The only module that imports jose. Verification accepts HS256 alone (RFC 8725 §3.1: never let the token
 * pick its algorithm), so `alg: none`, HS512 and public-key algorithms are refused before any key is tried.
 */
import { webcrypto } from 'node:crypto';
import { SignJWT, errors, jwtVerify, type JWTPayload } from 'jose';
import { GatehouseError } from '../shared/errors.js';
import type { KeyRing } from './secrets.js';
import { isSessionId } from './session-id.js';

/** Real tokens are about 150 bytes; anything this long is refused before it is parsed. */
export const MAX_SESSION_TOKEN_LENGTH = 2048;

const ALGORITHM = 'HS256';
const KEY_LENGTH = 32;
/** Three unpadded base64url segments: no whitespace, CR/LF, quotes or separators can get through. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface SessionTokenClaims {
  /** The session record id (`jti`). */
  readonly sessionId: string;
  /** Milliseconds since the epoch (`iat`, whole seconds on the wire). */
  readonly issuedAt: number;
  /** Milliseconds since the epoch; the record's expiry (`exp`, whole seconds on the wire). */
  readonly expiresAt: number;
}

const toSeconds = (milliseconds: number) => Math.floor(milliseconds / 1000);

/**
 * WebCrypto keys imported once per raw key: jose would otherwise import a raw key on every call, which is
 * most of the cost of a verification on the request path.
 */
const importedKeys = new WeakMap<Uint8Array, Promise<webcrypto.CryptoKey>>();

function hmacKey(key: Uint8Array): Promise<webcrypto.CryptoKey> {
  if (key.length !== KEY_LENGTH) {
    throw new TypeError(`a session token key must be ${KEY_LENGTH} derived bytes`);
  }
  let imported = importedKeys.get(key);
  if (imported === undefined) {
    imported = webcrypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    importedKeys.set(key, imported);
  }
  return imported;
}

export async function signSessionToken(claims: SessionTokenClaims, key: Uint8Array): Promise<string> {
  const { sessionId, issuedAt, expiresAt } = claims;
  if (!isSessionId(sessionId)) throw new TypeError('sessionId must come from newSessionId()');
  if (!Number.isSafeInteger(issuedAt) || !Number.isSafeInteger(expiresAt)) {
    throw new TypeError('issuedAt and expiresAt must be integer milliseconds');
  }
  if (toSeconds(expiresAt) <= toSeconds(issuedAt)) {
    throw new TypeError('a session token must expire at least a second after it is issued');
  }
  return new SignJWT()
    .setProtectedHeader({ alg: ALGORITHM })
    .setJti(sessionId)
    .setIssuedAt(toSeconds(issuedAt))
    .setExpirationTime(toSeconds(expiresAt))
    .sign(await hmacKey(key));
}

const invalid = (reason: string, cause?: unknown) =>
  new GatehouseError('ERR_SESSION_INVALID', 'the session token is not valid', {
    cause: cause ?? new Error(reason),
  });

/** The payload when `key` made the signature, `undefined` when it did not; claim failures are thrown. */
async function verifyWithKey(
  token: string,
  key: Uint8Array,
  currentDate: Date,
): Promise<JWTPayload | undefined> {
  const hmac = await hmacKey(key);
  try {
    const { payload } = await jwtVerify(token, hmac, {
      algorithms: [ALGORITHM],
      currentDate,
      requiredClaims: ['jti', 'iat', 'exp'],
    });
    return payload;
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) return undefined;
    // jose checks the signature before the claims, so an expired token here is a genuine one.
    if (error instanceof errors.JWTExpired) {
      throw new GatehouseError('ERR_SESSION_EXPIRED', 'the session has expired', { cause: error });
    }
    throw invalid('malformed', error);
  }
}

const isWholeSeconds = (value: unknown): value is number => Number.isSafeInteger(value);

/**
 * Verifies the signature against the current key, then each previous one, and the claims at `now`
 * (milliseconds). Resolves with the claims or rejects with ERR_SESSION_EXPIRED (a genuine but expired
 * token) or ERR_SESSION_INVALID (anything else). The message is the same for every reason, so a prober
 * learns nothing; the reason is kept as `cause` for the log.
 */
export async function verifySessionToken(
  token: string,
  keys: KeyRing,
  now: number,
): Promise<SessionTokenClaims> {
  if (token.length > MAX_SESSION_TOKEN_LENGTH) {
    throw invalid(`longer than ${MAX_SESSION_TOKEN_LENGTH} characters`);
  }
  if (!COMPACT_JWS.test(token)) throw invalid('not a compact JWS');
  const currentDate = new Date(now);
  for (const key of [keys.current, ...keys.previous]) {
    const payload = await verifyWithKey(token, key, currentDate);
    if (payload === undefined) continue;
    const { jti, iat, exp } = payload;
    if (!isSessionId(jti)) throw invalid('jti is not a session id');
    if (!isWholeSeconds(iat) || !isWholeSeconds(exp)) throw invalid('iat or exp is not whole seconds');
    return { sessionId: jti, issuedAt: iat * 1000, expiresAt: exp * 1000 };
  }
  throw invalid('signed with none of the configured keys');
}
