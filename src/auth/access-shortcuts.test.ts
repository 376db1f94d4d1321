import { describe, expect, it } from 'vitest';
import { compileAccessShortcuts } from './access-shortcuts.js';

const alice = { userId: 'sub-alice', email: 'alice@example.com' };
const bob = { userId: 'sub-bob', email: 'bob@contractor.example' };
const noEmail = { userId: 'sub-service' };

describe('compileAccessShortcuts', () => {
  it('allows everyone, signed in or not, on a public route', () => {
    const check = compileAccessShortcuts({ allow_public_unauthenticated_access: true, allowed_users: [] });
    expect(check(undefined)).toBe('allow');
    expect(check(bob)).toBe('allow');
  });

  it('denies everyone on a route that grants access to nobody', () => {
    for (const shortcuts of [
      {},
      { allow_public_unauthenticated_access: false, allow_any_authenticated_user: false },
      { allowed_users: [], allowed_domains: [] },
      { allowed_users: [''], allowed_domains: [''] },
    ]) {
      const check = compileAccessShortcuts(shortcuts);
      expect(check(undefined)).toBe('deny');
      expect(check(alice)).toBe('deny');
      expect(check({ userId: '', email: '' })).toBe('deny');
    }
  });

  it('asks an anonymous visitor to sign in when some user could be allowed', () => {
    expect(compileAccessShortcuts({ allow_any_authenticated_user: true })(undefined)).toBe('sign-in');
    expect(compileAccessShortcuts({ allowed_users: ['alice@example.com'] })(undefined)).toBe('sign-in');
    expect(compileAccessShortcuts({ allowed_domains: ['example.com'] })(undefined)).toBe('sign-in');
  });

  it('allows any signed-in user with allow_any_authenticated_user, with or without an email', () => {
    const check = compileAccessShortcuts({ allow_any_authenticated_user: true });
    expect(check(bob)).toBe('allow');
    expect(check(noEmail)).toBe('allow');
  });

  it('matches allowed_users by email, ignoring case', () => {
    const check = compileAccessShortcuts({ allowed_users: ['Alice@Example.COM'] });
    expect(check(alice)).toBe('allow');
    expect(check(bob)).toBe('deny');
    expect(check(noEmail)).toBe('deny');
  });

  it('matches allowed_users by user id exactly', () => {
    const check = compileAccessShortcuts({ allowed_users: ['sub-service'] });
    expect(check(noEmail)).toBe('allow');
    expect(check({ userId: 'SUB-SERVICE' })).toBe('deny');
    expect(check({ userId: 'sub-other', email: 'sub-service@example.com' })).toBe('deny');
  });

  it('matches allowed_domains by the exact email domain, not its sub-domains', () => {
    const check = compileAccessShortcuts({ allowed_domains: ['Example.com'] });
    expect(check(alice)).toBe('allow');
    expect(check({ userId: 'sub-x', email: 'x@eu.example.com' })).toBe('deny');
    expect(check(bob)).toBe('deny');
    expect(check(noEmail)).toBe('deny');
  });

  it('allows a user named by any one of the shortcuts', () => {
    const check = compileAccessShortcuts({ allowed_users: ['sub-bob'], allowed_domains: ['example.com'] });
    expect(check(alice)).toBe('allow');
    expect(check(bob)).toBe('allow');
    expect(check({ userId: 'sub-eve', email: 'eve@contractor.example' })).toBe('deny');
  });

  it('lets allow_public_unauthenticated_access win over narrower shortcuts', () => {
    const check = compileAccessShortcuts({
      allow_public_unauthenticated_access: true,
      allowed_domains: ['example.com'],
    });
    expect(check(bob)).toBe('allow');
  });
});
