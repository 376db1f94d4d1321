/**
 * Compiles the configured routes once, at load, into closures that only test strings per request: host
 * and port matching, path matching (`prefix`, `path`, `regex`) and path rewrites (`prefix_rewrite`,
 * `regex_rewrite_pattern`), with the semantics of Envoy's route matching that Pomerium configs expect.
 * Routes come validated by the config parser (one matcher, one rewrite, regexes that compile); a route
 * that breaks those rules is a programmer mistake and throws a TypeError.
 */
import { countCaptureGroups, parseSubstitution, type SubstitutionPart } from '../config/regex-rewrite.js';
import type { RouteConfig } from '../config/schema.js';
import type { RouteFrom } from '../config/urls.js';
import { compileHostPattern } from '../shared/host-pattern.js';

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
  const hostMatches = compileHostPattern(config.from.host);
  const portMatches = compilePortMatcher(config.from);
  return Object.freeze({
    index,
    name: config.name ?? `routes[${index}]`,
    config,
    matchesHost: (hostname: string, port: number | undefined) => hostMatches(hostname) && portMatches(port),
    matchesPath: compilePathMatcher(config),
    rewritePath: compileRewrite(config),
  });
}

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

function compilePathMatcher(config: RouteConfig): (path: string) => boolean {
  if (config.prefix !== undefined) return compilePrefixMatcher(config.prefix);
  const exactPath = config.path;
  if (exactPath !== undefined) return (path) => path === exactPath;
  if (config.regex !== undefined) {
    // A full match, as Envoy's safe_regex route matcher requires.
    const fullMatch = new RegExp(`^(?:${config.regex})$`);
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

function compileRewrite(config: RouteConfig): (path: string) => string {
  if (config.prefix_rewrite !== undefined) {
    // Envoy swaps "the matched prefix (or path)"; a route without a matcher matches the prefix `/`.
    return compilePrefixRewrite(config.prefix ?? config.path ?? '/', config.prefix_rewrite);
  }
  if (config.regex_rewrite_pattern !== undefined) {
    return compileRegexRewrite(config.regex_rewrite_pattern, config.regex_rewrite_substitution ?? '');
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
 * substitution's parts, applied by a function so JavaScript's `$` replacement patterns never come into
 * play and `\10` stays group 1 followed by `0`.
 */
function compileRegexRewrite(pattern: string, substitution: string): (path: string) => string {
  const matcher = new RegExp(pattern, 'g');
  const parsed = parseSubstitution(substitution, countCaptureGroups(pattern));
  if (!parsed.ok) throw new TypeError(`regex_rewrite_substitution was not validated: ${parsed.message}`);
  const parts: readonly SubstitutionPart[] = parsed.value;
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

function withLeadingSlash(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}
