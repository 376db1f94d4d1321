import { describe, expect, it } from 'vitest';
import { isSessionId, newSessionId } from './session-id.js';

describe('newSessionId', () => {
  it('makes 128-bit base64url ids that do not repeat', () => {
    const ids = Array.from({ length: 1000 }, newSessionId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });
});

describe('isSessionId', () => {
  it('accepts a fresh id', () => {
    expect(isSessionId(newSessionId())).toBe(true);
  });

  it.each([
    ['too short', 'abc'],
    ['a store key separator', `${'A'.repeat(22)}:admin`],
    ['a path', `../${'A'.repeat(22)}`],
    ['padding', `${'A'.repeat(22)}==`],
    ['a newline', `${'A'.repeat(22)}\n`],
    ['too long', 'A'.repeat(65)],
    ['a number', 1234],
    ['nothing', undefined],
  ])('refuses %s', (_label, value) => {
    expect(isSessionId(value)).toBe(false);
  });
});
