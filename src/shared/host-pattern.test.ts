import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileHostPattern } from './host-pattern.js';

interface HostCase {
  note: string;
  pattern: string;
  host: string;
  matches: boolean;
}

const cases = JSON.parse(
  readFileSync(new URL('../../test/fixtures/wildcard-hosts.json', import.meta.url), 'utf8'),
) as HostCase[];

describe('compileHostPattern', () => {
  it.each(cases)('$note: $pattern against $host is $matches', ({ pattern, host, matches }) => {
    expect(compileHostPattern(pattern)(host)).toBe(matches);
  });

  it.each(['', '*', '*.', 'a.*.example.com', '*.*.example.com', 'app*.example.com'])(
    'throws a TypeError for the malformed pattern %j',
    (pattern) => {
      expect(() => compileHostPattern(pattern)).toThrow(TypeError);
    },
  );
});
