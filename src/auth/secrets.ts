/**
 * `shared_secret` and `cookie_secret` — 32 random bytes each, written in base64 as Pomerium documents
 * (`head -c32 /dev/urandom | base64`) — and the keys derived from them.
 *
 * Neither secret is ever a key itself. Each purpose gets its own subkey from HKDF-SHA256 (RFC 5869) with a
 * distinct `info` label (RFC 5869 §3.2: `info` binds the output to its application context), so a MAC made
 * for one purpose can never be replayed as another's, and a key that leaks from one component (say, the
 * assertion signer's seed) reveals nothing about the others. Changing a label invalidates every session and
 * code minted under the old one; the labels are part of the wire format.
 */
import { hkdfSync } from 'node:crypto';
import { decodeSecret, SECRET_LENGTH } from '../config/secret-value.js';

export { decodeSecret } from '../config/secret-value.js';

/** RFC 5869 §3.1: a fixed, non-secret salt is allowed and still strengthens the extract step. */
const HKDF_SALT = 'gatehouse';

export type KeyPurpose =
  | 'session-token'
  | 'handoff-code'
  | 'login-request'
  | 'assertion-key-seed'
  | 'session-record'
  | 'csrf-binding';

const INFO_LABELS: Readonly<Record<KeyPurpose, string>> = {
  'session-token': 'gatehouse v1 session token signing (HS256)',
  'handoff-code': 'gatehouse v1 hand-off code',
  'login-request': 'gatehouse v1 signed login request',
  'assertion-key-seed': 'gatehouse v1 assertion signing key seed',
  'session-record': 'gatehouse v1 session record encryption (AES-256-GCM)',
  'csrf-binding': 'gatehouse v1 login CSRF binding',
};

/** The key to sign or seal with, and older ones still accepted when verifying or opening (rotation). */
export interface KeyRing {
  readonly current: Uint8Array;
  readonly previous: readonly Uint8Array[];
}

export interface AuthSecrets {
  /** `shared_secret`, decoded. */
  readonly sharedSecret: Uint8Array;
  /** `previous_shared_secrets`, decoded: tokens and codes they signed keep verifying. */
  readonly previousSharedSecrets: readonly Uint8Array[];
  /** `cookie_secret`, decoded. */
  readonly cookieSecret: Uint8Array;
}

export interface AuthKeys {
  /** HS256 key of session tokens (from `shared_secret`, with the previous secrets' keys). */
  readonly sessionToken: KeyRing;
  /** MAC key of single-use cross-apex hand-off codes (from `shared_secret`, with the previous secrets' keys). */
  readonly handoffCode: KeyRing;
  /** MAC key of the signed login requests a route host hands to the authenticate host. */
  readonly loginRequest: KeyRing;
  /** Seed of the derived `X-Pomerium-Jwt-Assertion` key when no `signing_key` is configured. */
  readonly assertionKeySeed: Uint8Array;
  /**
   * AES-256-GCM key of session records at rest (from `cookie_secret`). There is no
   * `previous_cookie_secrets`, so the ring holds no older keys; the sealed envelope is ready for them.
   */
  readonly sessionRecord: KeyRing;
  /** MAC key binding the login CSRF cookie to its transaction (from `cookie_secret`). */
  readonly csrfBinding: Uint8Array;
}

/** The subkey of `secret` for one purpose. */
export function deriveKey(secret: Uint8Array, purpose: KeyPurpose): Uint8Array {
  if (secret.length !== SECRET_LENGTH) {
    throw new TypeError(`a secret must be ${SECRET_LENGTH} bytes; decode it with decodeSecret first`);
  }
  return new Uint8Array(hkdfSync('sha256', secret, HKDF_SALT, INFO_LABELS[purpose], SECRET_LENGTH));
}

function deriveRing(current: Uint8Array, previous: readonly Uint8Array[], purpose: KeyPurpose): KeyRing {
  return {
    current: deriveKey(current, purpose),
    previous: previous.map((secret) => deriveKey(secret, purpose)),
  };
}

/** Every key the identity layer uses, each derived once at config load. */
export function deriveAuthKeys(secrets: AuthSecrets): AuthKeys {
  const { sharedSecret, previousSharedSecrets, cookieSecret } = secrets;
  return {
    sessionToken: deriveRing(sharedSecret, previousSharedSecrets, 'session-token'),
    handoffCode: deriveRing(sharedSecret, previousSharedSecrets, 'handoff-code'),
    loginRequest: deriveRing(sharedSecret, previousSharedSecrets, 'login-request'),
    assertionKeySeed: deriveKey(sharedSecret, 'assertion-key-seed'),
    sessionRecord: deriveRing(cookieSecret, [], 'session-record'),
    csrfBinding: deriveKey(cookieSecret, 'csrf-binding'),
  };
}

/** Decodes secrets the config has already checked; a TypeError means an unchecked config got here. */
export function decodeCheckedSecret(value: string): Uint8Array {
  const decoded = decodeSecret(value);
  if (!decoded.ok) throw new TypeError(`unchecked secret: ${decoded.message}`);
  return decoded.value;
}
