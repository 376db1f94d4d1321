/**
 * Records encrypted at rest, so a store dump (a Redis RDB file, a `MONITOR` session) reveals no tokens.
 *
 * Envelope, version 1: `0x01 ‖ IV (12 bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes)`. The IV is random
 * per write (NIST SP 800-38D §8.2.2; a key stays far below the 2^32 random-IV writes §8.3 allows). The
 * associated data is the version byte followed by the record id, so a record copied under another id, or
 * relabelled as another version, fails authentication instead of being read as someone else's session.
 * The version byte lets a later algorithm or key layout be introduced while old records stay readable.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { GatehouseError } from '../shared/errors.js';
import type { KeyRing } from './secrets.js';

const VERSION_AES_256_GCM = 1;
const KEY_LENGTH = 32;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const HEADER_LENGTH = 1 + IV_LENGTH;

function associatedData(version: number, id: string): Buffer {
  return Buffer.concat([Buffer.of(version), Buffer.from(id, 'utf8')]);
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_LENGTH) throw new TypeError(`a record key must be ${KEY_LENGTH} bytes`);
}

/** Encrypts `plaintext` for storage under `id`. */
export function sealRecord(plaintext: Uint8Array, key: Uint8Array, id: string): Uint8Array {
  checkKey(key);
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(associatedData(VERSION_AES_256_GCM, id));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return new Uint8Array(Buffer.concat([Buffer.of(VERSION_AES_256_GCM), iv, ciphertext, cipher.getAuthTag()]));
}

function decryptWith(sealed: Buffer, key: Uint8Array, id: string): Uint8Array | undefined {
  checkKey(key);
  const iv = sealed.subarray(1, HEADER_LENGTH);
  const ciphertext = sealed.subarray(HEADER_LENGTH, sealed.length - TAG_LENGTH);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  decipher.setAAD(associatedData(VERSION_AES_256_GCM, id));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  try {
    return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  } catch {
    // GCM authentication failed: another key, another id, or altered bytes.
    return undefined;
  }
}

const unreadable = (reason: string) =>
  new GatehouseError('ERR_RECORD_UNREADABLE', 'a stored record could not be decrypted', {
    cause: new Error(reason),
  });

/** Decrypts a record stored under `id`, trying the current key and then each previous one. */
export function openSealedRecord(sealed: Uint8Array, keys: KeyRing, id: string): Uint8Array {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.length < HEADER_LENGTH + TAG_LENGTH) throw unreadable('too short to be a sealed record');
  if (bytes[0] !== VERSION_AES_256_GCM) throw unreadable(`unknown envelope version ${bytes[0]}`);
  for (const key of [keys.current, ...keys.previous]) {
    const plaintext = decryptWith(bytes, key, id);
    if (plaintext !== undefined) return plaintext;
  }
  throw unreadable('altered, stored under another id, or sealed with none of the configured keys');
}
