import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeRequestTarget } from './normalize-path.js';

interface PathCase {
  note: string;
  input: string;
  expected: { path: string; query: string } | null;
}

const cases = JSON.parse(
  readFileSync(new URL('../../test/fixtures/path-normalization.json', import.meta.url), 'utf8'),
) as PathCase[];

describe('normalizeRequestTarget', () => {
  it.each(cases)('$note: $input', ({ input, expected }) => {
    expect(normalizeRequestTarget(input)).toEqual(expected ?? undefined);
  });

  it.each(cases.filter((entry) => entry.expected !== null))(
    'leaves its own result unchanged: $input',
    ({ expected }) => {
      const path = expected?.path ?? '';
      expect(normalizeRequestTarget(path)).toEqual({ path, query: '' });
    },
  );

  it('returns a path with nothing to normalize as the same string', () => {
    const target = '/api/v1/users/42/profile';
    expect(normalizeRequestTarget(`${target}?expand=1`)?.path).toBe(target);
  });

  it('refuses a character that is not a byte, since Node delivers targets as latin1', () => {
    expect(normalizeRequestTarget('/caf\u0107')).toBeUndefined();
  });

  it('resolves a very long run of dot segments to the root', () => {
    const target = `/a${'/..'.repeat(50_000)}/%2e%2e${'/.'.repeat(50_000)}`;
    expect(normalizeRequestTarget(target)).toEqual({ path: '/', query: '' });
  });

  it('keeps a very long path that needs encoding intact, byte for byte', () => {
    const segment = `${'x'.repeat(1000)}\\%7e`;
    const target = `/${Array.from({ length: 100 }, () => segment).join('/')}`;
    const expectedSegment = `${'x'.repeat(1000)}%5C~`;
    expect(normalizeRequestTarget(target)?.path).toBe(
      `/${Array.from({ length: 100 }, () => expectedSegment).join('/')}`,
    );
  });

  it('refuses an invalid escape at the very end of a long path', () => {
    expect(normalizeRequestTarget(`/${'a/'.repeat(10_000)}%4`)).toBeUndefined();
  });
});
