/**
 * Security regression: emails crafted to pass an `allowed_domains` or `allowed_users` check they do not
 * belong to (two `@`, look-alike and sub-domains, Unicode case folding) are denied; inputs in
 * test/fixtures/emails.json.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileAccessShortcuts, type AccessDecision, type AccessShortcuts } from './access-shortcuts.js';

interface EmailCase {
  readonly name: string;
  readonly email: string;
  readonly expect: AccessDecision;
}

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/emails.json', import.meta.url), 'utf8'),
) as { route: AccessShortcuts; cases: EmailCase[] };

describe('access shortcuts: email attacks', () => {
  const check = compileAccessShortcuts(fixture.route);

  it.each(fixture.cases)('$name ($email) → $expect', ({ email, expect: decision }) => {
    expect(check({ userId: 'sub-attacker', email })).toBe(decision);
  });

  it('holds both outcomes, so a check that always allows or always denies fails', () => {
    const outcomes = new Set(fixture.cases.map((c) => c.expect));
    expect(outcomes).toEqual(new Set(['allow', 'deny']));
  });
});
