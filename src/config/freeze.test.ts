import { describe, expect, it } from 'vitest';
import { deepFreeze } from './freeze.js';

describe('deepFreeze', () => {
  it('freezes nested objects and arrays', () => {
    const value = deepFreeze({ routes: [{ to: [{ url: 'http://a' }] }], headers: { a: 'b' } });
    expect(Object.isFrozen(value.routes[0]?.to[0])).toBe(true);
    expect(Object.isFrozen(value.headers)).toBe(true);
    expect(() => {
      (value.headers as Record<string, string>).c = 'd';
    }).toThrow(TypeError);
  });

  it('returns primitives unchanged', () => {
    expect(deepFreeze(5)).toBe(5);
    expect(deepFreeze(null)).toBeNull();
  });
});
