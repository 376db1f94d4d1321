import { describe, expect, it } from 'vitest';
import { compilePolicy, type Policy } from './compile-policy.js';
import type { PolicyDecision, PolicyInput, PolicyUser, PolicyVerdict } from './policy-input.js';

const alice: PolicyUser = {
  id: 'sub-alice',
  email: 'alice@example.com',
  groups: ['admins', 'staff'],
  claims: { department: 'eng', roles: ['reader', 'editor'], level: 3, email_verified: true },
};
const bob: PolicyUser = { id: 'sub-bob', email: 'bob@contractor.example', groups: ['contractors'] };

function request(overrides: Partial<PolicyInput> = {}): PolicyInput {
  return {
    method: 'GET',
    path: '/',
    sourceIp: '203.0.113.7',
    isCorsPreflight: false,
    user: alice,
    ...overrides,
  };
}

function compile(document: unknown): Policy {
  const compiled = compilePolicy(document);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  return compiled.policy;
}

/** The decision of an `allow` rule holding just `criterion`, for the request. */
function allowIf(criterion: Record<string, unknown>, overrides: Partial<PolicyInput> = {}): PolicyVerdict {
  return compile({ allow: { and: [criterion] } })(request(overrides)).decision;
}

describe('criteria', () => {
  it('accept allows everyone, signed in or not; reject allows nobody', () => {
    expect(allowIf({ accept: true }, { user: undefined })).toBe('allow');
    expect(allowIf({ accept: true })).toBe('allow');
    expect(allowIf({ reject: true })).toBe('deny');
    expect(allowIf({ reject: true }, { user: undefined })).toBe('deny');
  });

  it('authenticated_user allows any signed-in user and asks anyone else to sign in', () => {
    expect(allowIf({ authenticated_user: true })).toBe('allow');
    expect(allowIf({ authenticated_user: true }, { user: { id: 'sub-service' } })).toBe('allow');
    expect(allowIf({ authenticated_user: true }, { user: undefined })).toBe('sign-in');
  });

  it('email compares the whole address, ASCII case-insensitively', () => {
    expect(allowIf({ email: 'alice@example.com' })).toBe('allow');
    expect(allowIf({ email: 'ALICE@Example.COM' })).toBe('allow');
    expect(allowIf({ email: { ends_with: '@example.com' } })).toBe('allow');
    expect(allowIf({ email: 'alice@example.com' }, { user: bob })).toBe('deny');
    expect(allowIf({ email: 'alice@example.com' }, { user: undefined })).toBe('sign-in');
  });

  it('email ignores an address with more or fewer than one @, whatever the matcher', () => {
    for (const email of ['alice@evil.com@example.com', 'alice', '@example.com', 'alice@']) {
      const user = { id: 'sub-x', email };
      expect(allowIf({ email: { ends_with: '@example.com' } }, { user })).toBe('deny');
      expect(allowIf({ email: { contains: 'example.com' } }, { user })).toBe('deny');
      expect(allowIf({ email: { not_in: ['carol@example.com'] } }, { user })).toBe('deny');
    }
    expect(allowIf({ email: { not_in: ['carol@example.com'] } })).toBe('allow');
    expect(allowIf({ email: { ends_with: '@example.com' } }, { user: { id: 'sub-x' } })).toBe('deny');
  });

  it('domain compares the email domain exactly: no sub-domains, no look-alikes, no second @', () => {
    expect(allowIf({ domain: 'example.com' })).toBe('allow');
    expect(allowIf({ domain: 'EXAMPLE.com' })).toBe('allow');
    expect(allowIf({ domain: { in: ['other.example', 'example.com'] } })).toBe('allow');
    expect(allowIf({ domain: 'example.com' }, { user: { id: 'x', email: 'a@eu.example.com' } })).toBe('deny');
    expect(allowIf({ domain: 'example.com' }, { user: { id: 'x', email: 'a@example.com.evil' } })).toBe(
      'deny',
    );
    expect(allowIf({ domain: 'example.com' }, { user: { id: 'x', email: 'a@evil.com@example.com' } })).toBe(
      'deny',
    );
    expect(allowIf({ domain: 'example.com' }, { user: { id: 'x', email: 'a@\u212Aexample.com' } })).toBe(
      'deny',
    );
    expect(allowIf({ domain: 'example.com' }, { user: undefined })).toBe('sign-in');
  });

  it('user compares the IdP user id exactly', () => {
    expect(allowIf({ user: 'sub-alice' })).toBe('allow');
    expect(allowIf({ user: 'SUB-ALICE' })).toBe('deny');
    expect(allowIf({ user: 'alice@example.com' })).toBe('deny');
    expect(allowIf({ user: 'sub-alice' }, { user: undefined })).toBe('sign-in');
  });

  it('groups match when any group matches', () => {
    expect(allowIf({ groups: 'staff' })).toBe('allow');
    expect(allowIf({ groups: { in: ['ops', 'admins'] } })).toBe('allow');
    expect(allowIf({ groups: 'admins' }, { user: bob })).toBe('deny');
    expect(allowIf({ groups: 'admins' }, { user: { id: 'x' } })).toBe('deny');
    expect(allowIf({ groups: { not_in: ['contractors'] } })).toBe('allow');
    expect(
      allowIf(
        { groups: { not_in: ['contractors'] } },
        { user: { ...bob, groups: ['contractors', 'staff'] } },
      ),
    ).toBe('deny');
    expect(allowIf({ groups: 'admins' }, { user: undefined })).toBe('sign-in');
  });

  it('claim/<name> matches a scalar claim, and a list claim when any element matches', () => {
    expect(allowIf({ 'claim/department': 'eng' })).toBe('allow');
    expect(allowIf({ 'claim/department': 'sales' })).toBe('deny');
    expect(allowIf({ 'claim/roles': 'editor' })).toBe('allow');
    expect(allowIf({ 'claim/roles': { starts_with: 'read' } })).toBe('allow');
    expect(allowIf({ 'claim/roles': 'admin' })).toBe('deny');
    expect(allowIf({ 'claim/roles': { not_in: ['admin'] } })).toBe('allow');
    expect(allowIf({ 'claim/roles': { not_in: ['editor'] } })).toBe('deny');
    expect(allowIf({ 'claim/level': 3 })).toBe('allow');
    expect(allowIf({ 'claim/level': '3' })).toBe('deny');
    expect(allowIf({ 'claim/email_verified': true })).toBe('allow');
    expect(allowIf({ 'claim/missing': 'x' })).toBe('deny');
    expect(allowIf({ 'claim/department': 'eng' }, { user: undefined })).toBe('sign-in');
  });

  it('claim/<name> never reads inherited properties or nested objects', () => {
    const user = { id: 'x', claims: { nested: { a: 'b' }, list: [['eng']] } };
    expect(allowIf({ 'claim/constructor': { contains: 'Object' } }, { user })).toBe('deny');
    expect(allowIf({ 'claim/toString': { contains: 'function' } }, { user })).toBe('deny');
    expect(allowIf({ 'claim/nested': { contains: 'object' } }, { user })).toBe('deny');
    expect(allowIf({ 'claim/list': 'eng' }, { user })).toBe('deny');
  });

  it('http_method compares the method as sent (methods are case-sensitive, RFC 9110 §9.1)', () => {
    expect(allowIf({ http_method: 'GET' })).toBe('allow');
    expect(allowIf({ http_method: { in: ['GET', 'HEAD'] } }, { method: 'HEAD' })).toBe('allow');
    expect(allowIf({ http_method: 'GET' }, { method: 'POST' })).toBe('deny');
    expect(allowIf({ http_method: 'get' })).toBe('deny');
    expect(allowIf({ http_method: 'GET' }, { user: undefined })).toBe('allow');
  });

  it('http_path matches the path', () => {
    expect(allowIf({ http_path: '/health' }, { path: '/health' })).toBe('allow');
    expect(allowIf({ http_path: '/health' }, { path: '/health/deep' })).toBe('deny');
    expect(
      allowIf({ http_path: { starts_with: '/public/' } }, { path: '/public/a.css', user: undefined }),
    ).toBe('allow');
  });

  it('source_ip matches IPv4 and IPv6 addresses and CIDRs', () => {
    const office = { source_ip: ['10.0.0.0/8', '192.0.2.10', '2001:db8:abcd::/48', '::1'] };
    expect(allowIf(office, { sourceIp: '10.20.30.40' })).toBe('allow');
    expect(allowIf(office, { sourceIp: '::ffff:10.1.2.3' })).toBe('allow');
    expect(allowIf(office, { sourceIp: '192.0.2.10' })).toBe('allow');
    expect(allowIf(office, { sourceIp: '192.0.2.11' })).toBe('deny');
    expect(allowIf(office, { sourceIp: '2001:db8:abcd:12::5' })).toBe('allow');
    expect(allowIf(office, { sourceIp: '2001:db8:abce::5' })).toBe('deny');
    expect(allowIf(office, { sourceIp: '::1' })).toBe('allow');
    expect(allowIf(office, { sourceIp: 'not-an-ip' })).toBe('deny');
    expect(allowIf({ source_ip: '10.0.0.0/8' }, { sourceIp: '10.9.9.9', user: undefined })).toBe('allow');
  });

  it('cors_preflight matches preflights (true) or everything else (false)', () => {
    expect(allowIf({ cors_preflight: true }, { isCorsPreflight: true, user: undefined })).toBe('allow');
    expect(allowIf({ cors_preflight: true }, { method: 'OPTIONS' })).toBe('deny');
    expect(allowIf({ cors_preflight: false })).toBe('allow');
    expect(allowIf({ cors_preflight: false }, { isCorsPreflight: true })).toBe('deny');
  });
});

describe('operators', () => {
  const admin = { groups: 'admins' };
  const staff = { groups: 'staff' };
  const contractor = { groups: 'contractors' };
  const decide = (
    operator: string,
    criteria: unknown[],
    user: PolicyUser | undefined = alice,
  ): PolicyVerdict => compile({ allow: { [operator]: criteria } })(request({ user })).decision;

  it('and: all of', () => {
    expect(decide('and', [admin, staff])).toBe('allow');
    expect(decide('and', [admin, contractor])).toBe('deny');
  });

  it('or: any of', () => {
    expect(decide('or', [contractor, staff])).toBe('allow');
    expect(decide('or', [contractor, { groups: 'ops' }])).toBe('deny');
  });

  it('not: none of', () => {
    expect(decide('not', [contractor, { groups: 'ops' }])).toBe('allow');
    expect(decide('not', [contractor, staff])).toBe('deny');
    expect(decide('not', [admin, staff])).toBe('deny');
  });

  it('nor: not all of', () => {
    expect(decide('nor', [contractor, staff])).toBe('allow');
    expect(decide('nor', [contractor, { groups: 'ops' }])).toBe('allow');
    expect(decide('nor', [admin, staff])).toBe('deny');
  });

  it('several operators in one rule, and several allow rules, are alternatives', () => {
    const policy = compile([
      { allow: { and: [contractor], or: [{ email: 'carol@example.com' }] } },
      { allow: { and: [{ http_path: '/public' }] } },
    ]);
    expect(policy(request({ user: bob })).decision).toBe('allow');
    expect(policy(request({ user: { id: 'c', email: 'carol@example.com' } })).decision).toBe('allow');
    expect(policy(request()).decision).toBe('deny');
    expect(policy(request({ path: '/public' })).decision).toBe('allow');
  });

  it('an empty operator list neither allows nor denies, as in Pomerium', () => {
    expect(compile({ allow: { and: [] } })(request()).decision).toBe('deny');
    expect(compile([{ allow: { and: [{ accept: true }] } }, { deny: { or: [] } }])(request()).decision).toBe(
      'allow',
    );
  });
});

describe('decisions', () => {
  it('deny wins over allow, whatever the order of the rules', () => {
    const allowStaff = { allow: { or: [{ groups: 'staff' }] } };
    const denyAdmins = { deny: { or: [{ groups: 'admins' }] } };
    for (const document of [
      [allowStaff, denyAdmins],
      [denyAdmins, allowStaff],
    ]) {
      const policy = compile(document);
      expect(policy(request()).decision).toBe('deny');
      expect(policy(request({ user: { id: 'x', groups: ['staff'] } })).decision).toBe('allow');
    }
  });

  it('a document with no allow rule allows nobody', () => {
    expect(compile([{ deny: { and: [{ reject: true }] } }])(request())).toEqual({
      decision: 'deny',
      reasons: ['no-allow-rule'],
    });
    expect(compile([])(request({ user: undefined })).decision).toBe('deny');
  });

  it('asks an anonymous visitor to sign in only when signing in could change the answer', () => {
    const decide = (document: unknown): PolicyVerdict =>
      compile(document)(request({ user: undefined })).decision;
    // Public paths need nobody; the rest needs staff.
    const mixed = { allow: { or: [{ http_path: '/public' }, { groups: 'staff' }] } };
    expect(compile(mixed)(request({ user: undefined, path: '/public' })).decision).toBe('allow');
    expect(decide(mixed)).toBe('sign-in');
    // The path rules the visitor out whoever they are: 403, not a sign-in that ends at the same 403.
    expect(decide({ allow: { and: [{ http_path: '/admin' }, { groups: 'staff' }] } })).toBe('deny');
    // A deny that might apply to them once known: they must sign in before being let through.
    expect(
      decide([{ allow: { or: [{ accept: true }] } }, { deny: { or: [{ domain: 'contractor.example' }] } }]),
    ).toBe('sign-in');
    // A deny that holds whoever they are wins at once.
    expect(
      decide([{ allow: { or: [{ groups: 'staff' }] } }, { deny: { or: [{ http_method: 'GET' }] } }]),
    ).toBe('deny');
    expect(decide({ allow: { not: [{ groups: 'contractors' }] } })).toBe('sign-in');
    expect(decide({ allow: { nor: [{ groups: 'contractors' }, { http_method: 'POST' }] } })).toBe('allow');
  });

  it('returns the reasons of the rules that decided, in Pomerium names', () => {
    const policy = compile([
      { allow: { and: [{ domain: 'example.com' }, { http_method: 'GET' }] } },
      { deny: { or: [{ groups: 'contractors' }] } },
    ]);
    const decision = (input: PolicyInput): PolicyDecision => policy(input);
    expect(decision(request())).toEqual({ decision: 'allow', reasons: ['domain-ok', 'http-method-ok'] });
    expect(decision(request({ method: 'POST' }))).toEqual({
      decision: 'deny',
      reasons: ['http-method-unauthorized'],
    });
    expect(decision(request({ user: bob }))).toEqual({ decision: 'deny', reasons: ['groups-ok'] });
    expect(decision(request({ user: undefined }))).toEqual({
      decision: 'sign-in',
      reasons: ['user-unauthenticated'],
    });
  });

  it('compiles a single rule and a list of rules alike', () => {
    const single = compile({ allow: { or: [{ email: 'alice@example.com' }] } });
    const list = compile([{ allow: { or: [{ email: 'alice@example.com' }] } }]);
    for (const user of [alice, bob, undefined]) {
      expect(single(request({ user }))).toEqual(list(request({ user })));
    }
  });
});
