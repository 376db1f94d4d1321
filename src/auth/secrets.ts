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
import type { Parsed } from '../config/urls.js';

export const SECRET_LENGTH = 32;

/** RFC 5869 §3.1: a fixed, non-secret salt is allowed and still strengthens the extract step. */
const HKDF_SALT = 'gatehouse';

export type KeyPurpose =
  'session-token' | 'handoff-code' | 'assertion-key-seed' | 'session-record' | 'csrf-binding';

const INFO_LABELS: Readonly<Record<KeyPurpose, string>> = {
  'session-token': 'gatehouse v1 session token signing (HS256)',
  'handoff-code': 'gatehouse v1 hand-off code',
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

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HOW_TO_GENERATE = 'generate one with `head -c32 /dev/urandom | base64`';

/** Decodes a configured secret; surrounding whitespace (a `*_file` ending in a newline) is ignored. */
export function decodeSecret(value: string): Parsed<Uint8Array> {
  const text = value.trim();
  if (text === '') return { ok: false, message: `is empty; ${HOW_TO_GENERATE}` };
  if (!BASE64.test(text)) {
    return { ok: false, message: `must be ${SECRET_LENGTH} bytes in standard base64; ${HOW_TO_GENERATE}` };
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== SECRET_LENGTH) {
    return {
      ok: false,
      message: `must decode to exactly ${SECRET_LENGTH} bytes, not ${bytes.length}; ${HOW_TO_GENERATE}`,
    };
  }
  return { ok: true, value: new Uint8Array(bytes) };
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
    assertionKeySeed: deriveKey(sharedSecret, 'assertion-key-seed'),
    sessionRecord: deriveRing(cookieSecret, [], 'session-record'),
    csrfBinding: deriveKey(cookieSecret, 'csrf-binding'),
  };
}
