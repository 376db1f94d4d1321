/**
 * `regex_rewrite_substitution` in RE2 rewrite syntax, as Envoy reads it: `\0` is the whole match, `\1`…`\9`
 * are capture groups, `\\` is a backslash, any other escape is refused (as RE2 refuses it), and every other
 * character — `$` included — is literal. Parsed here once for both config validation (which reports the
 * problem) and the router (which compiles the parts), so the two can never disagree.
 */
import type { Parsed } from './urls.js';

/** Literal text, or the number of the group whose text goes there (0 for the whole match). */
export type SubstitutionPart = string | number;

/** An alternative that matches the empty string makes any pattern match, exposing its group count. */
export function countCaptureGroups(pattern: string): number {
  return (new RegExp(`${pattern}|`).exec('')?.length ?? 1) - 1;
}

export function parseSubstitution(substitution: string, groupCount: number): Parsed<SubstitutionPart[]> {
  const parts: SubstitutionPart[] = [];
  let literal = '';
  for (let index = 0; index < substitution.length; index++) {
    const char = substitution[index] as string;
    if (char !== '\\') {
      literal += char;
      continue;
    }
    index++;
    const escaped = substitution[index] ?? '';
    if (escaped === '\\') {
      literal += '\\';
    } else if (escaped >= '0' && escaped <= '9') {
      const group = Number(escaped);
      if (group > groupCount) {
        return {
          ok: false,
          message: `refers to group \\${group}, but regex_rewrite_pattern has ${groupCount} capture group(s)`,
        };
      }
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(group);
    } else {
      return {
        ok: false,
        message: `"\\${escaped}" is not a valid escape; use \\0-\\9 for groups and \\\\ for a backslash`,
      };
    }
  }
  if (literal !== '') parts.push(literal);
  return { ok: true, value: parts };
}
