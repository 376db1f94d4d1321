import { describe, expect, it } from 'vitest';
import type { PolicyProblem } from './policy-problem.js';
import { compileStringMatcher, type MatcherOptions, type Scalar, type ValuesTest } from './string-matcher.js';

const PLAIN: MatcherOptions = { foldCase: false, allowNonStrings: false };
const FOLDED: MatcherOptions = { foldCase: true, allowNonStrings: false };
const CLAIM: MatcherOptions = { foldCase: false, allowNonStrings: true };

function compile(value: unknown, options: MatcherOptions = PLAIN): ValuesTest {
  const problems: PolicyProblem[] = [];
  const test = compileStringMatcher(value, ['m'], options, problems);
  expect(problems).toEqual([]);
  if (test === undefined) throw new Error('no matcher compiled');
  return test;
}

function problemsOf(value: unknown, options: MatcherOptions = PLAIN): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  expect(compileStringMatcher(value, ['m'], options, problems)).toBeUndefined();
  return problems;
}

const one = (value: Scalar): readonly Scalar[] => [value];

describe('string matchers', () => {
  it('is: equal strings only, case-sensitive unless folding', () => {
    const is = compile({ is: 'Admin' });
    expect(is(one('Admin'))).toBe(true);
    expect(is(one('admin'))).toBe(false);
    expect(is(one('Admin '))).toBe(false);
    expect(compile({ is: 'Admin' }, FOLDED)(one('admin'))).toBe(true);
  });

  it('a bare value means is', () => {
    const bare = compile('/health');
    expect(bare(one('/health'))).toBe(true);
    expect(bare(one('/healthz'))).toBe(false);
  });

  it('contains, starts_with, ends_with', () => {
    expect(compile({ contains: 'min' })(one('admins'))).toBe(true);
    expect(compile({ contains: 'xyz' })(one('admins'))).toBe(false);
    expect(compile({ starts_with: '/api/' })(one('/api/v1'))).toBe(true);
    expect(compile({ starts_with: '/api/' })(one('/apix'))).toBe(false);
    expect(compile({ ends_with: '.json' })(one('/a.json'))).toBe(true);
    expect(compile({ ends_with: '.json' })(one('/a.jsonp'))).toBe(false);
  });

  it('in and not_in', () => {
    expect(compile({ in: ['GET', 'HEAD'] })(one('HEAD'))).toBe(true);
    expect(compile({ in: ['GET', 'HEAD'] })(one('POST'))).toBe(false);
    expect(compile({ not_in: ['GET', 'HEAD'] })(one('POST'))).toBe(true);
    expect(compile({ not_in: ['GET', 'HEAD'] })(one('GET'))).toBe(false);
    expect(compile({ in: [] })(one('GET'))).toBe(false);
  });

  it('several operators in one object must all hold', () => {
    const both = compile({ starts_with: '/api/', ends_with: '.json' });
    expect(both(one('/api/a.json'))).toBe(true);
    expect(both(one('/api/a.xml'))).toBe(false);
    expect(both(one('/web/a.json'))).toBe(false);
  });

  it('a list of values matches when any value matches', () => {
    const admins = compile('admins');
    expect(admins(['staff', 'admins'])).toBe(true);
    expect(admins(['staff'])).toBe(false);
    expect(admins([])).toBe(false);
    expect(compile({ starts_with: 'team-' })(['staff', 'team-red'])).toBe(true);
  });

  it('not_in on a list holds only when no value is in it, so a second group cannot hide the first', () => {
    const notContractor = compile({ not_in: ['contractors'] });
    expect(notContractor(['contractors', 'staff'])).toBe(false);
    expect(notContractor(['staff'])).toBe(true);
    expect(notContractor([])).toBe(true);
  });

  it('claims compare numbers and booleans exactly, never as their text', () => {
    expect(compile(true, CLAIM)(one(true))).toBe(true);
    expect(compile(true, CLAIM)(one('true'))).toBe(false);
    expect(compile({ in: [1, 2] }, CLAIM)(one(2))).toBe(true);
    expect(compile({ in: [1, 2] }, CLAIM)(one('2'))).toBe(false);
    expect(compile({ contains: '1' }, CLAIM)(one(12))).toBe(false);
  });

  it('refuses a wrong operand type, naming the operator', () => {
    expect(problemsOf({ is: 5 })).toEqual([{ path: ['m', 'is'], message: 'must be a string, got 5' }]);
    expect(problemsOf({ contains: ['a'] })).toEqual([
      { path: ['m', 'contains'], message: 'must be a string, got a list' },
    ]);
    expect(problemsOf({ in: 'GET' })).toEqual([
      { path: ['m', 'in'], message: 'must be a list, got "GET"; write ["GET"]' },
    ]);
    expect(problemsOf({ not_in: ['a', null] })).toEqual([
      { path: ['m', 'not_in', 1], message: 'must be a string, got an empty value' },
    ]);
    expect(problemsOf({ contains: 5 }, CLAIM)).toEqual([
      { path: ['m', 'contains'], message: 'must be a string, got 5' },
    ]);
    expect(problemsOf(null)).toEqual([{ path: ['m'], message: 'must be a string, got an empty value' }]);
  });

  it('refuses an unknown operator, listing the known ones', () => {
    const [problem] = problemsOf({ equals: 'a' });
    expect(problem?.path).toEqual(['m', 'equals']);
    expect(problem?.message).toBe(
      'unknown matcher "equals"; use one of is, contains, starts_with, ends_with, in, not_in',
    );
    expect(problemsOf({ not: 'a' })[0]?.message).toMatch(/write not_in: \[value\]$/);
  });

  it('refuses an empty matcher and a bare list', () => {
    expect(problemsOf({})[0]?.message).toMatch(/^needs a matcher/);
    expect(problemsOf(['a', 'b'])[0]?.message).toBe(
      'a list of values needs the in matcher: write { in: [...] }',
    );
  });

  it('reports every problem of a matcher at once', () => {
    expect(problemsOf({ is: 1, in: 'x', bogus: 2 }).map((p) => p.path.join('.'))).toEqual([
      'm.is',
      'm.in',
      'm.bogus',
    ]);
  });
});
