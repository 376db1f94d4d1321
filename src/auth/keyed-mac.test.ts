import { describe, expect, it } from 'vitest';
import { isMacOf, macOf } from './keyed-mac.js';

const key = new Uint8Array(32).fill(1);
const oldKey = new Uint8Array(32).fill(2);

describe('keyed MACs', () => {
  it('are 43 base64url characters', () => {
    expect(macOf(key, 'state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('verify under the key that made them or any other listed key', () => {
    expect(isMacOf(macOf(key, 'state'), 'state', [key])).toBe(true);
    expect(isMacOf(macOf(oldKey, 'state'), 'state', [key, oldKey])).toBe(true);
  });

  it('do not verify for another message, another key or a truncated tag', () => {
    const tag = macOf(key, 'state');
    expect(isMacOf(tag, 'other', [key])).toBe(false);
    expect(isMacOf(tag, 'state', [oldKey])).toBe(false);
    expect(isMacOf(tag.slice(0, -1), 'state', [key])).toBe(false);
    expect(isMacOf('', 'state', [key])).toBe(false);
  });
});
