/**
 * Session ids name session records in the store and travel as the session token's `jti`. 128 random bits
 * make them unguessable (RFC 7519 §4.1.7 asks that a `jti` not collide); the token's signature, not the
 * id's secrecy, is what authenticates. The strict shape also keeps a forged or corrupted id from reaching
 * a store key with separators or control characters in it.
 */
import { randomBytes } from 'node:crypto';

const SESSION_ID_BYTES = 16;
const SESSION_ID = /^[A-Za-z0-9_-]{22,64}$/;

/** A fresh random session id: 16 bytes as unpadded base64url (22 characters). */
export function newSessionId(): string {
  return randomBytes(SESSION_ID_BYTES).toString('base64url');
}

export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}
