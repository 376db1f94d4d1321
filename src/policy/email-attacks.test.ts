/**
 * Security regression: the email attacks of test/fixtures/emails.json (two `@`, look-alike and sub-domains,
 * Unicode case folding), written as a PPL policy, get the same answers as the access shortcuts — so the
 * shortcuts can compile into PPL without loosening a rule.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from './compile-policy.js';
import type { PolicyVerdict } from './policy-input.js';

interface EmailCase {
  readonly name: string;
  readonly email: string;
  readonly expect: PolicyVerdict;
}

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/emails.json', import.meta.url), 'utf8'),
) as {
  route: { allowed_domains: string[]; allowed_users: string[] };
  cases: EmailCase[];
};

describe('policy: email attacks', () => {
  const compiled = compilePolicy({
    allow: {
      or: [
        { domain: { in: fixture.route.allowed_domains } },
        { email: { in: fixture.route.allowed_users } },
        { user: { in: fixture.route.allowed_users } },
      ],
    },
  });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  const policy = compiled.policy;

  it.each(fixture.cases)('$name ($email) → $expect', ({ email, expect: decision }) => {
    const input = { method: 'GET', path: '/', sourceIp: '192.0.2.1', isCorsPreflight: false };
    expect(policy({ ...input, user: { id: 'sub-attacker', email } }).decision).toBe(decision);
  });

  it('holds both outcomes, so a policy that always allows or always denies fails', () => {
    expect(new Set(fixture.cases.map((c) => c.expect))).toEqual(new Set(['allow', 'deny']));
  });
});
