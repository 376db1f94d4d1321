import { describe, expect, it } from 'vitest';
import { domainOf, foldAsciiCase } from './email-domain.js';

describe('foldAsciiCase', () => {
  it('lowers ASCII letters only', () => {
    expect(foldAsciiCase('Alice@Example.COM')).toBe('alice@example.com');
    expect(foldAsciiCase('already lower')).toBe('already lower');
    expect(foldAsciiCase('\u212Aelvin İ')).toBe('\u212Aelvin İ');
  });
});

describe('domainOf', () => {
  it('reads the case-folded domain of an email with exactly one @', () => {
    expect(domainOf('a@Example.com')).toBe('example.com');
  });

  it('refuses two @, none, and an empty local part or domain', () => {
    for (const email of [
      'a@evil.com@example.com',
      'a@@example.com',
      'example.com',
      '@example.com',
      'a@',
      '@',
      '',
    ]) {
      expect(domainOf(email)).toBeUndefined();
    }
  });
});
