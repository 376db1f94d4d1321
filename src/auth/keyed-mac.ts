/**
 * HMAC-SHA256 tags for values Gatehouse hands to browsers and must recognise later (login CSRF cookies,
 * hand-off codes): unforgeable without the derived key, compared in constant time so a guess learns
 * nothing from how long the comparison took.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The tag of `message`, unpadded base64url (43 characters). */
export function macOf(key: Uint8Array, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('base64url');
}

/** Whether `tag` is the tag of `message` under any of `keys`. */
export function isMacOf(tag: string, message: string, keys: readonly Uint8Array[]): boolean {
  const presented = Buffer.from(tag, 'utf8');
  return keys.some((key) => {
    const expected = Buffer.from(macOf(key, message), 'utf8');
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  });
}
