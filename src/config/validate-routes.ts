/**
 * Checks across the keys of one route that the schema cannot express key by key: one path matcher, one
 * path rewrite, one way to choose the upstream Host, and regular expressions that compile the way the
 * router compiles them. They read the routes before validation, so a route with a mistake the schema
 * reports still gets these checks too.
 */
import { routeMappings, type Mapping } from './mapping.js';
import { checkDynamicUpstream } from './validate-dynamic-upstream.js';
import { countCaptureGroups, parseSubstitution } from './regex-rewrite.js';
import type { PathSegment } from './problem.js';
import type { ProblemAt } from './schema-issues.js';

const MATCHERS = ['prefix', 'path', 'regex'] as const;

function text(route: Mapping, key: string): string | undefined {
  const value = route[key];
  return typeof value === 'string' ? value : undefined;
}

function listWords(words: readonly string[]): string {
  return words.length <= 2 ? words.join(' and ') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

/** Why `source` does not compile, in the words of the engine's SyntaxError ("Unterminated group"). */
function regexError(source: string, flags: string): string | undefined {
  try {
    new RegExp(source, flags);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return message.slice(message.lastIndexOf(': ') + 2);
  }
}

function checkMatchers(route: Mapping, at: (...keys: PathSegment[]) => PathSegment[]): ProblemAt[] {
  const problems: ProblemAt[] = [];
  const given = MATCHERS.filter((key) => route[key] !== undefined);
  if (given.length > 1) {
    problems.push({ path: at(), message: `has both ${listWords(given)}; a route takes one path matcher` });
  }
  for (const key of ['prefix', 'path'] as const) {
    const value = text(route, key);
    if (value !== undefined && !value.startsWith('/')) {
      problems.push({ path: at(key), message: `must start with "/", like /${value}` });
    }
  }
  const regex = text(route, 'regex');
  // Compiled on its own: the router wraps it as `^(?:…)$`, where `a)(b` would compile and escape the group.
  const reason = regex === undefined ? undefined : regexError(regex, '');
  if (reason !== undefined) {
    problems.push({ path: at('regex'), message: `is not a valid regular expression: ${reason}` });
  }
  return problems;
}

function checkRewrites(route: Mapping, at: (...keys: PathSegment[]) => PathSegment[]): ProblemAt[] {
  const problems: ProblemAt[] = [];
  const pattern = text(route, 'regex_rewrite_pattern');
  const substitution = text(route, 'regex_rewrite_substitution');
  if (route.prefix_rewrite !== undefined && route.regex_rewrite_pattern !== undefined) {
    problems.push({
      path: at(),
      message: 'has both prefix_rewrite and regex_rewrite_pattern; a route takes one path rewrite',
    });
  } else if (route.prefix_rewrite !== undefined && route.regex !== undefined) {
    problems.push({
      path: at('prefix_rewrite'),
      message: 'needs a prefix or path matcher; with regex use regex_rewrite_pattern',
    });
  }
  if ((route.regex_rewrite_pattern === undefined) !== (route.regex_rewrite_substitution === undefined)) {
    const [given, missing] =
      route.regex_rewrite_pattern === undefined
        ? ['regex_rewrite_substitution', 'regex_rewrite_pattern']
        : ['regex_rewrite_pattern', 'regex_rewrite_substitution'];
    problems.push({ path: at(given), message: `needs ${missing} as well` });
  }
  if (pattern === undefined) return problems;
  const reason = regexError(pattern, 'g');
  if (reason !== undefined) {
    problems.push({
      path: at('regex_rewrite_pattern'),
      message: `is not a valid regular expression: ${reason}`,
    });
    return problems;
  }
  const parsed = parseSubstitution(substitution ?? '', countCaptureGroups(pattern));
  if (!parsed.ok) problems.push({ path: at('regex_rewrite_substitution'), message: parsed.message });
  return problems;
}

function checkUpstreamHost(route: Mapping, at: (...keys: PathSegment[]) => PathSegment[]): ProblemAt[] {
  if (route.preserve_host_header !== true || route.host_rewrite === undefined) return [];
  return [
    {
      path: at(),
      message:
        'has both preserve_host_header and host_rewrite; the upstream gets one Host header, choose one',
    },
  ];
}

export function validateRoutes(routes: unknown): ProblemAt[] {
  return routeMappings(routes).flatMap(([index, route]) => {
    const at = (...keys: PathSegment[]) => ['routes', index, ...keys];
    return [
      ...checkMatchers(route, at),
      ...checkRewrites(route, at),
      ...checkUpstreamHost(route, at),
      ...checkDynamicUpstream(route, at),
    ];
  });
}
