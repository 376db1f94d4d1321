/**
 * Compiles the configured routes once, at load, into closures that only test strings per request: host
 * and port matching, path matching (`prefix`, `path`, `regex`) and path rewrites (`prefix_rewrite`,
 * `regex_rewrite_pattern`), with the semantics of Envoy's route matching that Pomerium configs expect.
 */
import type { RouteConfig } from '../config/schema.js';
import type { RouteFrom } from '../config/urls.js';
import { GatehouseError } from '../shared/errors.js';
import { compileHostPattern } from './host-pattern.js';

export interface CompiledRoute {
  /** Position in the config's route list. */
  readonly index: number;
  /** `config.name`, or `routes[<index>]` for logs and metrics. */
  readonly name: string;
  readonly config: RouteConfig;
  /** `hostname` and `port` as `parseHostHeader` returns them. */
  matchesHost(hostname: string, port: number | undefined): boolean;
  /** `path` is the normalized path without the query. */
  matchesPath(path: string): boolean;
  /** The path to forward for a path this route matched; the path itself when the route has no rewrite. */
  rewritePath(path: string): string;
}

export interface RouteTable {
  readonly routes: readonly CompiledRoute[];
}

const DEFAULT_PORT = { http: 80, https: 443 } as const;

export function compileRoutes(routes: readonly RouteConfig[]): RouteTable {
  return Object.freeze({ routes: Object.freeze(routes.map(compileRoute)) });
}

function compileRoute(config: RouteConfig, index: number): CompiledRoute {
  const problemAt: ProblemAt = (key, message, cause) =>
    new GatehouseError('ERR_CONFIG_INVALID', `routes[${index}].${key}: ${message}`, { cause });
  const hostMatches = compileHostPattern(config.from.host);
  const portMatches = compilePortMatcher(config.from);
  return Object.freeze({
    index,
    name: config.name ?? `routes[${index}]`,
    config,
    matchesHost: (hostname: string, port: number | undefined) => hostMatches(hostname) && portMatches(port),
    matchesPath: compilePathMatcher(config, problemAt),
    rewritePath: compileRewrite(config, problemAt),
  });
}

/** A config problem found while compiling, reported at its key like the config parser reports them. */
type ProblemAt = (key: string, message: string, cause?: unknown) => GatehouseError;

/**
 * A `from` without a port matches any port. With a port it matches that port, and also a Host header
 * without one when the port is the scheme's default — a browser never writes `:443` for https.
 */
function compilePortMatcher(from: RouteFrom): (port: number | undefined) => boolean {
  const expected = from.port;
  if (expected === undefined) return () => true;
  const isDefaultPort = expected === DEFAULT_PORT[from.scheme];
  return (port) => port === expected || (port === undefined && isDefaultPort);
}

function compilePathMatcher(config: RouteConfig, problemAt: ProblemAt): (path: string) => boolean {
  const matchers = [config.prefix, config.path, config.regex].filter((matcher) => matcher !== undefined);
  if (matchers.length > 1) throw problemAt('prefix', 'use only one of prefix, path and regex');
  if (config.prefix !== undefined) return compilePrefixMatcher(config.prefix);
  const exactPath = config.path;
  if (exactPath !== undefined) return (path) => path === exactPath;
  if (config.regex !== undefined) {
    // A full match, as Envoy's safe_regex route matcher requires.
    const fullMatch = compileRegExp(`^(?:${config.regex})$`, '', 'regex', problemAt);
    return (path) => fullMatch.test(path);
  }
  return () => true;
}

/**
 * Segment-aware: `/api` matches `/api` and `/api/…` but not `/apiary`. A prefix that ends in `/` (the
 * root included) already ends at a segment boundary and matches every path that starts with it.
 */
function compilePrefixMatcher(prefix: string): (path: string) => boolean {
  if (prefix === '' || prefix.endsWith('/')) return (path) => path.startsWith(prefix);
  const directory = `${prefix}/`;
  return (path) => path === prefix || path.startsWith(directory);
}

function compileRewrite(config: RouteConfig, problemAt: ProblemAt): (path: string) => string {
  if (config.prefix_rewrite !== undefined) {
    if (config.regex_rewrite_pattern !== undefined) {
      throw problemAt('prefix_rewrite', 'use either prefix_rewrite or regex_rewrite_pattern, not both');
    }
    if (config.regex !== undefined) {
      throw problemAt(
        'prefix_rewrite',
        'needs a prefix or path matcher; with regex use regex_rewrite_pattern',
      );
    }
    // Envoy swaps "the matched prefix (or path)"; a route without a matcher matches the prefix `/`.
    return compilePrefixRewrite(config.prefix ?? config.path ?? '/', config.prefix_rewrite);
  }
  if (config.regex_rewrite_pattern !== undefined) {
    // Pomerium passes a missing substitution to Envoy as the empty string, which deletes every match.
    return compileRegexRewrite(
      config.regex_rewrite_pattern,
      config.regex_rewrite_substitution ?? '',
      problemAt,
    );
  }
  return (path) => path;
}

function compilePrefixRewrite(matchedPrefix: string, replacement: string): (path: string) => string {
  const dropsSlash = replacement.endsWith('/');
  return (path) => {
    if (!path.startsWith(matchedPrefix)) {
      throw new TypeError(`rewritePath was given "${path}", which its route did not match`);
    }
    const rest = path.slice(matchedPrefix.length);
    // `prefix: /api, prefix_rewrite: /` must turn `/api/users` into `/users`, not `//users`.
    return withLeadingSlash(
      dropsSlash && rest.startsWith('/') ? replacement + rest.slice(1) : replacement + rest,
    );
  };
}

/**
 * Replaces every match of `pattern` (Envoy's RegexMatchAndSubstitute is a global replace) with the
 * substitution, read as RE2 rewrite syntax: `\0` is the whole match, `\1`…`\9` are capture groups, `\\`
 * is a backslash, any other escape is refused (as RE2 refuses it), and every other character — `$`
 * included — is literal. The substitution is compiled to parts applied by a function, so JavaScript's
 * `$` replacement patterns never come into play and `\10` stays group 1 followed by `0`.
 */
function compileRegexRewrite(
  pattern: string,
  substitution: string,
  problemAt: ProblemAt,
): (path: string) => string {
  const matcher = compileRegExp(pattern, 'g', 'regex_rewrite_pattern', problemAt);
  const groupCount = countCaptureGroups(pattern);
  const parts = parseSubstitution(substitution, groupCount, problemAt);
  const substitute = (match: string, ...groupsAndPosition: unknown[]): string => {
    let replaced = '';
    for (const part of parts) {
      if (typeof part === 'string') replaced += part;
      else replaced += part === 0 ? match : ((groupsAndPosition[part - 1] as string | undefined) ?? '');
    }
    return replaced;
  };
  return (path) => withLeadingSlash(path.replace(matcher, substitute));
}

/** Literal text, or the number of the group whose text goes there (0 for the whole match). */
type SubstitutionPart = string | number;

function parseSubstitution(
  substitution: string,
  groupCount: number,
  problemAt: ProblemAt,
): SubstitutionPart[] {
  const parts: SubstitutionPart[] = [];
  let literal = '';
  for (let index = 0; index < substitution.length; index++) {
    const char = substitution[index] as string;
    if (char !== '\\') {
      literal += char;
      continue;
    }
    const escaped = substitution[index + 1] ?? '';
    index++;
    if (escaped === '\\') {
      literal += '\\';
    } else if (escaped >= '0' && escaped <= '9') {
      const group = Number(escaped);
      if (group > groupCount) {
        throw problemAt(
          'regex_rewrite_substitution',
          `refers to group \\${group}, but regex_rewrite_pattern has ${groupCount} capture group(s)`,
        );
      }
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(group);
    } else {
      throw problemAt(
        'regex_rewrite_substitution',
        `"\\${escaped}" is not a valid escape; use \\0-\\9 for groups and \\\\ for a backslash`,
      );
    }
  }
  if (literal !== '') parts.push(literal);
  return parts;
}

/** An alternative that matches the empty string makes any pattern match, exposing its group count. */
function countCaptureGroups(pattern: string): number {
  return (new RegExp(`${pattern}|`).exec('')?.length ?? 1) - 1;
}

function compileRegExp(source: string, flags: string, key: string, problemAt: ProblemAt): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw problemAt(key, 'is not a valid regular expression', error);
  }
}

function withLeadingSlash(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}
