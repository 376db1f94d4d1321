/**
 * Turns the schema's validation issues into problems people can act on: messages that say what the key
 * must be and what it got, at the path of the key. Types come from the schema, so this module needs no
 * import of the validation library itself.
 */
import type { configSchema } from './schema.js';
import type { PathSegment } from './problem.js';

type ParseOptions = NonNullable<Parameters<typeof configSchema.safeParse>[1]>;
type IssueMessage = NonNullable<ParseOptions['error']>;
type RawIssue = Parameters<IssueMessage>[0];
export type SchemaIssue = NonNullable<ReturnType<typeof configSchema.safeParse>['error']>['issues'][number];

export interface ProblemAt {
  readonly path: readonly PathSegment[];
  readonly message: string;
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of keys to values',
  record: 'a mapping of keys to values',
};

/** How a problem names the value it got: short, and never a whole mapping. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `"${value.slice(0, 40)}…"` : JSON.stringify(value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

function expectedTypes(branches: readonly (readonly SchemaIssue[])[]): string[] {
  const names = branches.flatMap((branch) =>
    branch.flatMap((issue) => (issue.code === 'invalid_type' ? [typeName(issue.expected)] : [])),
  );
  return [...new Set(names)];
}

/**
 * The per-parse message for issues whose schema gave no message of its own (schema messages take
 * precedence over this one).
 */
export const describeIssue: IssueMessage = (issue: RawIssue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${typeName(issue.expected)}, not ${describeValue(issue.input)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}, not ${describeValue(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'string') return 'may not be empty';
      if (issue.origin === 'array') return `needs at least ${issue.minimum} item(s)`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      return `must be at most ${issue.maximum}`;
    case 'invalid_format':
      return 'is not in the expected format';
    case 'invalid_key':
      return issue.issues[0]?.message ?? 'is not a valid key';
    case 'invalid_union':
      return `must be ${expectedTypes(issue.errors).join(' or ')}, not ${describeValue(issue.input)}`;
    default:
      return undefined;
  }
};

/** True for a union branch that failed only because the value had another type. */
function isTypeMismatch(branch: readonly SchemaIssue[]): boolean {
  return branch.every((issue) => issue.code === 'invalid_type' && issue.path.length === 0);
}

function toSegments(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
}

/**
 * One issue's problems. A union that failed is reported through the branch the value's type selected
 * (`to: [url, 5]` is a list with a bad item, not "a string or a list"), or by listing the types it takes.
 */
export function problemsOfIssue(issue: SchemaIssue): ProblemAt[] {
  const path = toSegments(issue.path);
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ path, message: issue.message }];
  const selected = issue.errors.filter((branch) => !isTypeMismatch(branch));
  const [branch] = selected;
  if (selected.length === 1 && branch !== undefined) {
    return branch.flatMap((inner) =>
      problemsOfIssue(inner).map((problem) => ({
        path: [...path, ...problem.path],
        message: problem.message,
      })),
    );
  }
  return [{ path, message: issue.message }];
}
