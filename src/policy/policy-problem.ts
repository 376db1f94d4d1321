/**
 * A mistake in a policy document, located by the path of the key it concerns, relative to the document
 * (`[1, 'allow', 'and', 0, 'email']`). The config loader prefixes the route's path, so the message it
 * prints names the file, the rule and the key.
 */
import type { PathSegment } from '../config/problem.js';

export { describeValue } from '../config/schema-issues.js';

export type { PathSegment };

export interface PolicyProblem {
  readonly path: readonly PathSegment[];
  readonly message: string;
}

/** A mapping parsed from YAML or JSON (not a list, not null). */
export function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `Object.entries` of a parsed YAML/JSON mapping, with the `__proto__` key read as data, not a prototype. */
export function entriesOf(value: Readonly<Record<string, unknown>>): [string, unknown][] {
  return Object.keys(value).map((key) => [key, value[key]]);
}

