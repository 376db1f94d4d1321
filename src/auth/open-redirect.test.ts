import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkProgrammaticRedirect,
  checkReturnUrl,
  compileProgrammaticRedirectCheck,
} from './redirect-allowlist.js';

/** An allowed case names the URL that is sent; a refused one, a phrase its message must contain. */
type Outcome = { allowed: true; href: string } | { allowed: false; refusal: string };

type ProgrammaticCase = { note: string; uri: string; allowedHosts: string[] } & Outcome;
type ReturnUrlCase = { note: string; returnUrl: string; origin: string } & Outcome;

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/open-redirect.json', import.meta.url), 'utf8'),
) as { programmaticRedirect: ProgrammaticCase[]; returnUrl: ReturnUrlCase[] };

function expectOutcome(result: ReturnType<typeof checkReturnUrl>, expected: Outcome): void {
  if (expected.allowed) {
    expect(result).toMatchObject({ ok: true });
    if (result.ok) expect(result.value.href).toBe(expected.href);
  } else {
    expect(result).toMatchObject({ ok: false });
    if (!result.ok) expect(result.message).toContain(expected.refusal);
  }
}

describe('checkProgrammaticRedirect', () => {
  it.each(fixture.programmaticRedirect)(
    '$note: $uri with $allowedHosts',
    ({ uri, allowedHosts, ...expected }) => {
      expectOutcome(checkProgrammaticRedirect(uri, allowedHosts), expected);
    },
  );

  it.each([
    '',
    'http://localhost',
    'localhost:3000',
    'localhost/cb',
    'user@localhost',
    '*.*.example.com',
    'a b',
    '*.',
  ])('throws a TypeError for the allowlist entry %j', (entry) => {
    expect(() => compileProgrammaticRedirectCheck([entry])).toThrow(TypeError);
  });

  it('decides the same for a compiled allowlist as for one checked per call', () => {
    const check = compileProgrammaticRedirectCheck(['localhost']);
    for (const { uri, allowedHosts } of fixture.programmaticRedirect) {
      if (allowedHosts.length === 1 && allowedHosts[0] === 'localhost') {
        expect(check(uri)).toEqual(checkProgrammaticRedirect(uri, allowedHosts));
      }
    }
  });
});

describe('checkReturnUrl', () => {
  it.each(fixture.returnUrl)('$note: $returnUrl from $origin', ({ returnUrl, origin, ...expected }) => {
    expectOutcome(checkReturnUrl(returnUrl, { origin }), expected);
  });

  it.each(['null', 'app.example.com', 'javascript:alert(1)', ''])(
    'throws a TypeError for the request origin %j',
    (origin) => {
      expect(() => checkReturnUrl('https://app.example.com/', { origin })).toThrow(TypeError);
    },
  );
});
