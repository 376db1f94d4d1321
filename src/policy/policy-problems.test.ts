/**
 * Errors that teach: each mistake in test/fixtures/policy/problems.json is refused at compile time with a
 * message at the path of the key it concerns, so the loader can name the file, the rule and the key.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatPath } from '../config/problem.js';
import { compilePolicy } from './compile-policy.js';

interface ProblemCase {
  readonly name: string;
  readonly document: unknown;
  readonly problems: readonly { readonly path: string; readonly message: string }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/policy/problems.json', import.meta.url), 'utf8'),
) as { cases: ProblemCase[] };

describe('policy problems', () => {
  it.each(fixture.cases)('refuses $name', ({ document, problems }) => {
    const compiled = compilePolicy(document);
    expect(compiled.ok).toBe(false);
    const found = compiled.ok
      ? []
      : compiled.problems.map((p) => ({ path: formatPath(p.path), message: p.message }));
    expect(found).toHaveLength(problems.length);
    problems.forEach((expected, index) => {
      expect(found[index]?.path).toBe(expected.path);
      expect(found[index]?.message).toContain(expected.message);
    });
  });

  it('refuses documents that are no rules at all', () => {
    for (const document of [null, 'allow', 42, true]) {
      const compiled = compilePolicy(document);
      expect(compiled.ok ? [] : compiled.problems.map((p) => formatPath(p.path))).toEqual(['']);
    }
  });
});
