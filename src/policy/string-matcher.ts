/**
 * PPL string matchers (`is`, `contains`, `starts_with`, `ends_with`, `in`, `not_in`), compiled once into a
 * test over the values a criterion looks at. A bare value means `is`; several operators in one object must
 * all hold, as in Pomerium. A fact may hold several values (the user's groups, a list claim): a positive
 * operator holds when any value satisfies it, and `not_in` is exactly the negation of `in` — no value is
 * in the list — so `groups: { not_in: [contractors] }` never lets a contractor through because they also
 * belong to another group.
 */
import { foldAsciiCase } from '../shared/email-domain.js';
import type { PolicyProblem } from './policy-problem.js';
import { describeValue, entriesOf, isPlainObject, type PathSegment } from './policy-problem.js';

/** A value a claim may hold that a matcher can compare. */
export type Scalar = string | number | boolean;

/** True when the values satisfy every operator of the matcher. */
export type ValuesTest = (values: readonly Scalar[]) => boolean;

export interface MatcherOptions {
  /** Fold ASCII case on both sides (emails and domains, RFC 4343 §3). */
  readonly foldCase: boolean;
  /** Claims may hold numbers and booleans, which `is`, `in` and `not_in` compare exactly. */
  readonly allowNonStrings: boolean;
}

const MATCHER_OPERATORS = ['is', 'contains', 'starts_with', 'ends_with', 'in', 'not_in'] as const;
const OPERATOR_LIST = MATCHER_OPERATORS.join(', ');

type Operator = (typeof MATCHER_OPERATORS)[number];

function isOperator(key: string): key is Operator {
  return (MATCHER_OPERATORS as readonly string[]).includes(key);
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

interface Context {
  readonly options: MatcherOptions;
  readonly problems: PolicyProblem[];
}

function readOperand(value: unknown, path: readonly PathSegment[], context: Context): Scalar | undefined {
  const { allowNonStrings, foldCase } = context.options;
  if (typeof value === 'string') return foldCase ? foldAsciiCase(value) : value;
  if (allowNonStrings && (typeof value === 'number' || typeof value === 'boolean')) return value;
  const expected = allowNonStrings ? 'a string, number or true/false' : 'a string';
  context.problems.push({ path, message: `must be ${expected}, got ${describeValue(value)}` });
  return undefined;
}

function readString(value: unknown, path: readonly PathSegment[], context: Context): string | undefined {
  if (typeof value !== 'string') {
    context.problems.push({ path, message: `must be a string, got ${describeValue(value)}` });
    return undefined;
  }
  return readOperand(value, path, context) as string;
}

function readList(value: unknown, path: readonly PathSegment[], context: Context): Set<Scalar> | undefined {
  if (!Array.isArray(value)) {
    const hint = isScalar(value) ? `; write [${JSON.stringify(value)}]` : '';
    context.problems.push({ path, message: `must be a list, got ${describeValue(value)}${hint}` });
    return undefined;
  }
  const entries: readonly unknown[] = value;
  const operands = entries.map((entry, index) => readOperand(entry, [...path, index], context));
  return operands.every((operand) => operand !== undefined) ? new Set(operands) : undefined;
}

function compileOperator(
  operator: Operator,
  operand: unknown,
  path: readonly PathSegment[],
  context: Context,
): ValuesTest | undefined {
  switch (operator) {
    case 'is': {
      const expected = readOperand(operand, path, context);
      return expected === undefined ? undefined : (values) => values.includes(expected);
    }
    case 'contains': {
      const part = readString(operand, path, context);
      return part === undefined
        ? undefined
        : (values) => values.some((value) => typeof value === 'string' && value.includes(part));
    }
    case 'starts_with': {
      const prefix = readString(operand, path, context);
      return prefix === undefined
        ? undefined
        : (values) => values.some((value) => typeof value === 'string' && value.startsWith(prefix));
    }
    case 'ends_with': {
      const suffix = readString(operand, path, context);
      return suffix === undefined
        ? undefined
        : (values) => values.some((value) => typeof value === 'string' && value.endsWith(suffix));
    }
    case 'in': {
      const set = readList(operand, path, context);
      return set === undefined ? undefined : (values) => values.some((value) => set.has(value));
    }
    case 'not_in': {
      const set = readList(operand, path, context);
      return set === undefined ? undefined : (values) => !values.some((value) => set.has(value));
    }
  }
}

/**
 * Compiles a matcher (`value`, found at `path` in the policy) or records why it cannot; `undefined` means
 * problems were recorded.
 */
export function compileStringMatcher(
  value: unknown,
  path: readonly PathSegment[],
  options: MatcherOptions,
  problems: PolicyProblem[],
): ValuesTest | undefined {
  const context: Context = { options, problems };
  if (Array.isArray(value)) {
    problems.push({ path, message: `a list of values needs the in matcher: write { in: [...] }` });
    return undefined;
  }
  if (!isPlainObject(value)) {
    const test = compileOperator('is', value, path, context);
    return test;
  }
  const entries = entriesOf(value);
  if (entries.length === 0) {
    problems.push({ path, message: `needs a matcher: one of ${OPERATOR_LIST}` });
    return undefined;
  }
  const tests: ValuesTest[] = [];
  let failed = false;
  for (const [key, operand] of entries) {
    if (!isOperator(key)) {
      const hint = key === 'not' ? '; to exclude a value write not_in: [value]' : '';
      problems.push({
        path: [...path, key],
        message: `unknown matcher "${key}"; use one of ${OPERATOR_LIST}${hint}`,
      });
      failed = true;
      continue;
    }
    const test = compileOperator(key, operand, [...path, key], context);
    if (test === undefined) failed = true;
    else tests.push(test);
  }
  if (failed) return undefined;
  const [only] = tests;
  if (tests.length === 1 && only !== undefined) return only;
  return (values) => tests.every((test) => test(values));
}
