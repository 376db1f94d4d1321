import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeSecret, deriveAuthKeys, deriveKey, type KeyPurpose } from './secrets.js';

const secret = (fill: number) => new Uint8Array(32).fill(fill);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('decodeSecret', () => {
  it('decodes 32 bytes of standard base64', () => {
    const bytes = randomBytes(32);
    const decoded = decodeSecret(bytes.toString('base64'));
    expect(decoded.ok && hex(decoded.value)).toBe(bytes.toString('hex'));
  });

  it('ignores the newline a *_file ends with', () => {
    expect(decodeSecret(`${randomBytes(32).toString('base64')}\n`).ok).toBe(true);
  });

  it.each([
    ['16 bytes', randomBytes(16).toString('base64'), 'exactly 32 bytes, not 16'],
    ['64 bytes', randomBytes(64).toString('base64'), 'exactly 32 bytes, not 64'],
    ['an empty value', '  ', 'is empty'],
    ['a passphrase', 'correct horse battery staple', 'standard base64'],
    ['base64url', 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH-_c=', 'standard base64'],
    ['base64 without padding', 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc', 'standard base64'],
    ['hex', randomBytes(32).toString('hex'), 'exactly 32 bytes'],
  ])('refuses %s with a message that says how to make one', (_label, value, message) => {
    const decoded = decodeSecret(value);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.message).toContain(message);
    expect(!decoded.ok && decoded.message).toContain('head -c32 /dev/urandom | base64');
  });
});

describe('deriveKey', () => {
  const purposes: KeyPurpose[] = [
    'session-token',
    'handoff-code',
    'assertion-key-seed',
    'session-record',
    'csrf-binding',
  ];

  it('derives the same keys as before: the labels are part of the wire format', () => {
    expect(hex(deriveKey(secret(7), 'session-token'))).toBe(
      '547237822286e9f8ca59ca30716a833098804f2863ff5fbb4b5f985b2df8b93d',
    );
    expect(hex(deriveKey(secret(7), 'session-record'))).toBe(
      'c18c77e806f7cbdfe29590c2f0cd04625fb1c495ca79c486a83df94263e5af09',
    );
  });

  it('gives every purpose its own 32-byte key, none of them the secret itself', () => {
    const keys = purposes.map((purpose) => hex(deriveKey(secret(7), purpose)));
    expect(new Set([...keys, hex(secret(7))]).size).toBe(purposes.length + 1);
    for (const purpose of purposes) expect(deriveKey(secret(7), purpose)).toHaveLength(32);
  });

  it('gives different secrets different keys', () => {
    expect(hex(deriveKey(secret(1), 'session-token'))).not.toBe(hex(deriveKey(secret(2), 'session-token')));
  });

  it('treats a secret of the wrong length as a programming mistake', () => {
    expect(() => deriveKey(new Uint8Array(31), 'session-token')).toThrow(TypeError);
  });
});

describe('deriveAuthKeys', () => {
  const keys = deriveAuthKeys({
    sharedSecret: secret(1),
    previousSharedSecrets: [secret(2), secret(3)],
    cookieSecret: secret(4),
  });

  it('derives token and hand-off keys from shared_secret, with one older key per previous secret', () => {
    expect(hex(keys.sessionToken.current)).toBe(hex(deriveKey(secret(1), 'session-token')));
    expect(keys.sessionToken.previous.map(hex)).toEqual([
      hex(deriveKey(secret(2), 'session-token')),
      hex(deriveKey(secret(3), 'session-token')),
    ]);
    expect(keys.handoffCode.previous.map(hex)).toEqual([
      hex(deriveKey(secret(2), 'handoff-code')),
      hex(deriveKey(secret(3), 'handoff-code')),
    ]);
    expect(hex(keys.assertionKeySeed)).toBe(hex(deriveKey(secret(1), 'assertion-key-seed')));
  });

  it('derives the record and CSRF keys from cookie_secret', () => {
    expect(hex(keys.sessionRecord.current)).toBe(hex(deriveKey(secret(4), 'session-record')));
    expect(keys.sessionRecord.previous).toEqual([]);
    expect(hex(keys.csrfBinding)).toBe(hex(deriveKey(secret(4), 'csrf-binding')));
  });

  it('keeps purposes apart even when shared_secret and cookie_secret are the same value', () => {
    const same = deriveAuthKeys({
      sharedSecret: secret(5),
      previousSharedSecrets: [],
      cookieSecret: secret(5),
    });
    const all = [
      same.sessionToken.current,
      same.handoffCode.current,
      same.assertionKeySeed,
      same.sessionRecord.current,
      same.csrfBinding,
    ];
    expect(new Set(all.map(hex)).size).toBe(all.length);
  });
});
