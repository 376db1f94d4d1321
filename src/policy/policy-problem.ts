/**
 * A mistake in a policy document, located by the path of the key it concerns, relative to the document
 * (`[1, 'allow', 'and', 0, 'email']`). The config loader prefixes the route's path, so the message it
 * prints names the file, the rule and the key.
 */
import type { PathSegment } from '../config/problem.js';

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
