import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../shared/errors.js';
import { openSealedRecord, sealRecord } from './sealed-record.js';

const key = new Uint8Array(32).fill(1);
const oldKey = new Uint8Array(32).fill(2);
const ring = { current: key, previous: [] };
const ID = 'AAECAwQFBgcICQoLDA0ODw';
const plaintext = new Uint8Array(Buffer.from('{"refreshToken":"very secret refresh token"}'));

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

function expectUnreadable(open: () => unknown) {
  expect(open).toThrow(GatehouseError);
  expect(open).toThrow(expect.objectContaining({ code: 'ERR_RECORD_UNREADABLE', expose: false }));
}

describe('sealRecord', () => {
  it('writes version 1, a 12-byte IV, the ciphertext and a 16-byte tag', () => {
    const sealed = sealRecord(plaintext, key, ID);
    expect(sealed[0]).toBe(1);
    expect(sealed).toHaveLength(1 + 12 + plaintext.length + 16);
  });

  it('hides the plaintext', () => {
    expect(text(sealRecord(plaintext, key, ID))).not.toContain('secret');
  });

  it('uses a fresh IV for every write', () => {
    const first = sealRecord(plaintext, key, ID);
    const second = sealRecord(plaintext, key, ID);
    expect(Buffer.from(first.subarray(1, 13)).equals(Buffer.from(second.subarray(1, 13)))).toBe(false);
  });

  it('treats a key of the wrong length as a programming mistake', () => {
    expect(() => sealRecord(plaintext, new Uint8Array(16), ID)).toThrow(TypeError);
  });
});

describe('openSealedRecord', () => {
  it('returns what was sealed', () => {
    expect(text(openSealedRecord(sealRecord(plaintext, key, ID), ring, ID))).toBe(text(plaintext));
  });

  it('opens an empty record', () => {
    expect(openSealedRecord(sealRecord(new Uint8Array(), key, ID), ring, ID)).toHaveLength(0);
  });

  it('opens a record sealed with a previous key', () => {
    const sealed = sealRecord(plaintext, oldKey, ID);
    expect(text(openSealedRecord(sealed, { current: key, previous: [oldKey] }, ID))).toBe(text(plaintext));
  });

  it('refuses a record sealed with a key that is not configured', () => {
    expectUnreadable(() => openSealedRecord(sealRecord(plaintext, oldKey, ID), ring, ID));
  });

  it('refuses a record moved under another id', () => {
    expectUnreadable(() => openSealedRecord(sealRecord(plaintext, key, ID), ring, 'BBECAwQFBgcICQoLDA0ODw'));
  });

  it('refuses a record with any single bit changed', () => {
    const sealed = sealRecord(plaintext, key, ID);
    for (let index = 0; index < sealed.length; index += 1) {
      const altered = Uint8Array.from(sealed);
      altered[index] = (altered[index] ?? 0) ^ 0x01;
      expectUnreadable(() => openSealedRecord(altered, ring, ID));
    }
  });

  it('refuses a truncated record', () => {
    const sealed = sealRecord(plaintext, key, ID);
    for (const length of [0, 1, 13, 28, sealed.length - 1]) {
      expectUnreadable(() => openSealedRecord(sealed.subarray(0, length), ring, ID));
    }
  });

  it('refuses an unknown envelope version', () => {
    const sealed = sealRecord(plaintext, key, ID);
    sealed[0] = 2;
    expectUnreadable(() => openSealedRecord(sealed, ring, ID));
  });

  it('reads a record that is a view into a larger buffer', () => {
    const sealed = sealRecord(plaintext, key, ID);
    const larger = new Uint8Array(sealed.length + 8);
    larger.set(sealed, 4);
    expect(text(openSealedRecord(larger.subarray(4, 4 + sealed.length), ring, ID))).toBe(text(plaintext));
  });
});
