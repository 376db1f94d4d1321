/**
 * Properties over generated requests and users: evaluation never throws whatever the IdP put in the
 * claims, and the operators are the logic their names promise — `not [a, b]` is "neither a nor b",
 * `nor [a, b]` is "not both" — including when a criterion cannot be decided without a user.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, type Policy } from './compile-policy.js';
import type { PolicyInput, PolicyUser, PolicyVerdict } from './policy-input.js';
import { compileStringMatcher, type Scalar } from './string-matcher.js';

function compile(document: unknown): Policy {
  const compiled = compilePolicy(document);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  return compiled.policy;
}

/** Every criterion and matcher, with operands the generated users below sometimes satisfy. */
const CRITERIA: readonly Record<string, unknown>[] = [
  { accept: true },
  { reject: true },
  { authenticated_user: true },
  { email: 'a@example.com' },
  { email: { ends_with: '@example.com' } },
  { email: { not_in: ['b@example.com'] } },
  { domain: 'example.com' },
  { domain: { in: ['example.com', 'b.example'] } },
  { user: 'u1' },
  { user: { starts_with: 'u' } },
  { groups: 'admins' },
  { groups: { not_in: ['contractors'] } },
  { groups: { contains: 'a' } },
  { 'claim/roles': 'editor' },
  { 'claim/level': { in: [1, 2, 3] } },
  { 'claim/flag': true },
  { 'claim/__proto__': { contains: 'x' } },
  { http_method: { in: ['GET', 'HEAD'] } },
  { http_path: { starts_with: '/api/', ends_with: '.json' } },
  { source_ip: ['10.0.0.0/8', '2001:db8::/32'] },
  { cors_preflight: true },
];

const criterion = fc.constantFrom(...CRITERIA);

const word = fc.constantFrom('a', 'u1', 'admins', 'contractors', 'editor', 'example.com', 'x', '');
const email = fc.oneof(
  fc.constantFrom(
    'a@example.com',
    'A@EXAMPLE.COM',
    'b@b.example',
    'a@evil@example.com',
    '@example.com',
    'a@',
  ),
  fc.emailAddress(),
  fc.string(),
);

/** A well-typed user, as the session code builds them. */
const user: fc.Arbitrary<PolicyUser> = fc.record(
  {
    id: fc.oneof(word, fc.string()),
    email,
    groups: fc.array(fc.oneof(word, fc.string()), { maxLength: 4 }),
    claims: fc.record({ roles: fc.array(word), level: fc.integer({ min: 0, max: 4 }), flag: fc.boolean() }),
  },
  { requiredKeys: ['id'] },
);

/** Whatever an IdP might send, including shapes the types rule out. */
const hostileUser = fc
  .record({
    id: fc.anything(),
    email: fc.anything(),
    groups: fc.anything({ withNullPrototype: true, withBoxedValues: true }),
    claims: fc.oneof(
      fc.dictionary(
        fc.oneof(word, fc.constantFrom('__proto__', 'constructor', 'roles', 'level', 'flag')),
        fc.jsonValue(),
      ),
      fc.anything({ withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true }),
    ),
  })
  .map((value) => value as unknown as PolicyUser);

const input = (users: fc.Arbitrary<PolicyUser>): fc.Arbitrary<PolicyInput> =>
  fc.record({
    method: fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'get'), fc.string()),
    path: fc.oneof(fc.constantFrom('/', '/api/a.json', '/api/a'), fc.string()),
    sourceIp: fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.constantFrom('10.1.2.3', '2001:db8::1', '::ffff:10.0.0.1'),
      fc.string(),
    ),
    isCorsPreflight: fc.boolean(),
    user: fc.option(users, { nil: undefined }),
  });

type Truth = 'true' | 'false' | 'unknown';

/** What one criterion says about a request, read off a policy that holds only it. */
function truthOf(criterionObject: Record<string, unknown>, request: PolicyInput): Truth {
  const verdict = compile({ allow: { and: [criterionObject] } })(request).decision;
  return verdict === 'allow' ? 'true' : verdict === 'deny' ? 'false' : 'unknown';
}

const negate = (a: Truth): Truth => (a === 'true' ? 'false' : a === 'false' ? 'true' : 'unknown');
const both = (a: Truth, b: Truth): Truth =>
  a === 'false' || b === 'false' ? 'false' : a === 'unknown' || b === 'unknown' ? 'unknown' : 'true';
const verdictOf = (truth: Truth): PolicyVerdict =>
  truth === 'true' ? 'allow' : truth === 'false' ? 'deny' : 'sign-in';

describe('policy properties', () => {
  it('evaluation never throws on arbitrary claims, and always answers', () => {
    const document = CRITERIA.flatMap((c) => [
      { allow: { or: [c] } },
      { deny: { nor: [c, { accept: true }] } },
    ]);
    const policy = compile(document);
    const each = CRITERIA.map((c) => compile({ allow: { and: [c] } }));
    fc.assert(
      fc.property(input(fc.oneof(user, hostileUser)), (request) => {
        for (const decide of [policy, ...each]) {
          const { decision, reasons } = decide(request);
          expect(['allow', 'deny', 'sign-in']).toContain(decision);
          expect(reasons.every((reason) => typeof reason === 'string')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('not [a, b] equals neither a nor b', () => {
    fc.assert(
      fc.property(criterion, criterion, input(user), (a, b, request) => {
        const expected = both(negate(truthOf(a, request)), negate(truthOf(b, request)));
        expect(compile({ allow: { not: [a, b] } })(request).decision).toBe(verdictOf(expected));
      }),
      { numRuns: 500 },
    );
  });

  it('nor [a, b] equals not both a and b', () => {
    fc.assert(
      fc.property(criterion, criterion, input(user), (a, b, request) => {
        const expected = negate(both(truthOf(a, request), truthOf(b, request)));
        expect(compile({ allow: { nor: [a, b] } })(request).decision).toBe(verdictOf(expected));
      }),
      { numRuns: 500 },
    );
  });

  it('a deny rule that holds always wins over any allow rule', () => {
    fc.assert(
      fc.property(criterion, criterion, input(user), (allowed, denied, request) => {
        const policy = compile([{ allow: { or: [allowed] } }, { deny: { or: [denied] } }]);
        const decision = policy(request).decision;
        if (truthOf(denied, request) === 'true') expect(decision).toBe('deny');
        if (decision === 'allow') {
          expect(truthOf(allowed, request)).toBe('true');
          expect(truthOf(denied, request)).toBe('false');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('not_in is exactly the negation of in, for single values and lists', () => {
    const scalar: fc.Arbitrary<Scalar> = fc.oneof(word, fc.integer({ min: 0, max: 3 }), fc.boolean());
    const options = { foldCase: false, allowNonStrings: true };
    fc.assert(
      fc.property(
        fc.array(scalar, { maxLength: 4 }),
        fc.array(scalar, { maxLength: 4 }),
        (listed, values) => {
          const isIn = compileStringMatcher({ in: listed }, [], options, []);
          const notIn = compileStringMatcher({ not_in: listed }, [], options, []);
          expect(notIn?.(values)).toBe(!isIn?.(values));
        },
      ),
    );
  });
});
