/**
 * The PPL criteria Gatehouse understands, one entry each, compiled once from a criterion object such as
 * `{ email: { ends_with: '@example.com' } }`. Reason names are Pomerium's (`pkg/policy/criteria/reasons.go`)
 * so decision logs read the same.
 */
import { domainOf, foldAsciiCase } from '../shared/email-domain.js';
import { compileIpRanges, isIpOrCidr } from '../shared/ip-range.js';
import type { PolicyInput, PolicyUser } from './policy-input.js';
import { describeValue, type PathSegment, type PolicyProblem } from './policy-problem.js';
import { compileStringMatcher, type MatcherOptions, type Scalar, type ValuesTest } from './string-matcher.js';

export type CompiledCriterion =
  | {
      /** Decided from the request alone. */
      readonly kind: 'request';
      readonly okReason: string;
      readonly failReason: string;
      readonly test: (input: PolicyInput) => boolean;
    }
  | {
      /** Needs a signed-in user; without one the answer is "sign in". */
      readonly kind: 'user';
      readonly okReason: string;
      readonly failReason: string;
      readonly test: (user: PolicyUser) => boolean;
    };

export const USER_UNAUTHENTICATED = 'user-unauthenticated';

type CriterionCompiler = (
  value: unknown,
  path: readonly PathSegment[],
  problems: PolicyProblem[],
) => CompiledCriterion | undefined;

const PLAIN: MatcherOptions = { foldCase: false, allowNonStrings: false };
const FOLDED: MatcherOptions = { foldCase: true, allowNonStrings: false };
const CLAIM: MatcherOptions = { foldCase: false, allowNonStrings: true };

/**
 * `accept: true`, not `accept: false`: Pomerium ignores the value, so `accept: false` would still accept
 * everyone — a reading no one intends. Requiring `true` turns the surprise into a load error.
 */
function readTrue(
  name: string,
  value: unknown,
  path: readonly PathSegment[],
  problems: PolicyProblem[],
): boolean {
  if (value === true) return true;
  const hint = value === false ? `; to leave ${name} out, remove the criterion` : '';
  problems.push({ path, message: `must be true, got ${describeValue(value)}${hint}` });
  return false;
}

function onlyScalars(value: unknown): readonly Scalar[] {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return [value];
  if (!Array.isArray(value)) return [];
  const entries: readonly unknown[] = value;
  return entries.filter(
    (entry): entry is Scalar =>
      typeof entry === 'string' || typeof entry === 'number' || typeof entry === 'boolean',
  );
}

function userCriterion(
  okReason: string,
  failReason: string,
  options: MatcherOptions,
  valuesOf: (user: PolicyUser) => readonly Scalar[] | undefined,
): CriterionCompiler {
  return (value, path, problems) => {
    const matches = compileStringMatcher(value, path, options, problems);
    if (matches === undefined) return undefined;
    return {
      kind: 'user',
      okReason,
      failReason,
      // `undefined`: the user has no such value at all (no email, a malformed one); that matches nothing.
      test: (user) => {
        const values = valuesOf(user);
        return values !== undefined && matches(values);
      },
    };
  };
}

function requestCriterion(
  okReason: string,
  failReason: string,
  valueOf: (input: PolicyInput) => string,
): CriterionCompiler {
  return (value, path, problems) => {
    const matches: ValuesTest | undefined = compileStringMatcher(value, path, PLAIN, problems);
    if (matches === undefined) return undefined;
    return { kind: 'request', okReason, failReason, test: (input) => matches([valueOf(input)]) };
  };
}

/** The email, case-folded, when it is one an access decision may trust: exactly one `@` (DESIGN 6). */
function trustedEmail(user: PolicyUser): readonly string[] | undefined {
  const email = user.email;
  if (typeof email !== 'string' || domainOf(email) === undefined) return undefined;
  return [foldAsciiCase(email)];
}

function emailDomain(user: PolicyUser): readonly string[] | undefined {
  const domain = typeof user.email === 'string' ? domainOf(user.email) : undefined;
  return domain === undefined ? undefined : [domain];
}

function groupsOf(user: PolicyUser): readonly string[] {
  const groups: unknown = user.groups;
  return Array.isArray(groups) ? onlyScalars(groups).filter((group) => typeof group === 'string') : [];
}

function compileSourceIp(
  value: unknown,
  path: readonly PathSegment[],
  problems: PolicyProblem[],
): CompiledCriterion | undefined {
  const entries: readonly unknown[] = Array.isArray(value) ? value : [value];
  let valid = true;
  entries.forEach((entry, index) => {
    if (typeof entry === 'string' && isIpOrCidr(entry)) return;
    valid = false;
    const at = Array.isArray(value) ? [...path, index] : path;
    problems.push({
      path: at,
      message: `must be an IP address or CIDR (10.0.0.0/8, 2001:db8::/32), got ${describeValue(entry)}`,
    });
  });
  if (entries.length === 0) {
    valid = false;
    problems.push({ path, message: 'needs at least one IP address or CIDR' });
  }
  if (!valid) return undefined;
  const contains = compileIpRanges(entries as readonly string[]);
  return {
    kind: 'request',
    okReason: 'source-ip-ok',
    failReason: 'source-ip-unauthorized',
    test: (input) => contains(input.sourceIp),
  };
}

const COMPILERS: Readonly<Record<string, CriterionCompiler>> = {
  accept: (value, path, problems) =>
    readTrue('accept', value, path, problems)
      ? { kind: 'request', okReason: 'accept', failReason: 'accept', test: () => true }
      : undefined,
  reject: (value, path, problems) =>
    readTrue('reject', value, path, problems)
      ? { kind: 'request', okReason: 'reject', failReason: 'reject', test: () => false }
      : undefined,
  authenticated_user: (value, path, problems) =>
    readTrue('authenticated_user', value, path, problems)
      ? { kind: 'user', okReason: 'user-ok', failReason: 'user-unauthorized', test: () => true }
      : undefined,
  email: userCriterion('email-ok', 'email-unauthorized', FOLDED, trustedEmail),
  domain: userCriterion('domain-ok', 'domain-unauthorized', FOLDED, emailDomain),
  user: userCriterion('user-ok', 'user-unauthorized', PLAIN, (user) => [user.id]),
  groups: userCriterion('groups-ok', 'groups-unauthorized', PLAIN, groupsOf),
  http_method: requestCriterion('http-method-ok', 'http-method-unauthorized', (input) => input.method),
  http_path: requestCriterion('http-path-ok', 'http-path-unauthorized', (input) => input.path),
  source_ip: compileSourceIp,
  cors_preflight: (value, path, problems) => {
    if (typeof value !== 'boolean') {
      problems.push({ path, message: `must be true or false, got ${describeValue(value)}` });
      return undefined;
    }
    return {
      kind: 'request',
      okReason: value ? 'cors-request' : 'non-cors-request',
      failReason: value ? 'non-cors-request' : 'cors-request',
      test: (input) => input.isCorsPreflight === value,
    };
  },
};

const CRITERION_NAMES = [...Object.keys(COMPILERS), 'claim/<name>'];

const CLAIM_PREFIX = 'claim/';

function compileClaim(
  name: string,
  value: unknown,
  path: readonly PathSegment[],
  problems: PolicyProblem[],
): CompiledCriterion | undefined {
  if (name === '') {
    problems.push({ path, message: 'names no claim; write claim/<name>, e.g. claim/department' });
    return undefined;
  }
  return userCriterion('claim-ok', 'claim-unauthorized', CLAIM, (user) => {
    const claims: unknown = user.claims;
    if (typeof claims !== 'object' || claims === null || !Object.hasOwn(claims, name)) return [];
    return onlyScalars((claims as Readonly<Record<string, unknown>>)[name]);
  })(value, path, problems);
}

/** Compiles one criterion named `name` (a key of a criterion object, at `path`). */
export function compileCriterion(
  name: string,
  value: unknown,
  path: readonly PathSegment[],
  problems: PolicyProblem[],
): CompiledCriterion | undefined {
  if (name.startsWith(CLAIM_PREFIX))
    return compileClaim(name.slice(CLAIM_PREFIX.length), value, path, problems);
  const compiler = Object.hasOwn(COMPILERS, name) ? COMPILERS[name] : undefined;
  if (compiler !== undefined) return compiler(value, path, problems);
  const nested = ['and', 'or', 'not', 'nor'].includes(name)
    ? `; operators do not nest in PPL — write a separate allow or deny rule`
    : '';
  problems.push({
    path,
    message: `unknown criterion "${name}"${nested}; use one of ${CRITERION_NAMES.join(', ')}`,
  });
  return undefined;
}
