/**
 * `shared_secret`, `previous_shared_secrets` and `cookie_secret` are 32 random bytes in standard base64,
 * as Pomerium's are; checked when the config loads so a short or mistyped secret is never used.
 */
import type { Parsed } from './urls.js';

export const SECRET_LENGTH = 32;

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
