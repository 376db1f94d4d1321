/**
 * A PPL document (DESIGN 6) compiled once into a decision function. A document is one rule or a list of
 * rules; a rule is `allow:` or `deny:` with operator lists — `and` (all of), `or` (any of), `not` (none
 * of), `nor` (not all of), as Pomerium's generator defines them (`pkg/policy/generator/conditionals.go`).
 * Several operators in one rule, and several rules with the same action, are alternatives; deny wins.
 *
 * Evaluation is three-valued: a criterion that needs a user, asked without one, is "unknown" rather than
 * false, and the operators follow Kleene's logic. A request is allowed only when some allow rule holds and
 * no deny rule can; when the answer hangs on who the visitor is, the decision is `sign-in` — the proxy's
 * 401/302 — and not a 403 the visitor could never have avoided.
 */
import { compileCriterion, USER_UNAUTHENTICATED, type CompiledCriterion } from './criterion.js';
import type { PolicyDecision, PolicyInput } from './policy-input.js';
import {
  describeValue,
  entriesOf,
  isPlainObject,
  type PathSegment,
  type PolicyProblem,
} from './policy-problem.js';

export type Policy = (input: PolicyInput) => PolicyDecision;

export type CompiledPolicy =
  | { readonly ok: true; readonly policy: Policy }
  | { readonly ok: false; readonly problems: readonly PolicyProblem[] };

type Truth = 'true' | 'false' | 'unknown';

interface Outcome {
  readonly truth: Truth;
  readonly reasons: readonly string[];
}

type Evaluate = (input: PolicyInput) => Outcome;

const OPERATORS = ['and', 'or', 'not', 'nor'] as const;
type Operator = (typeof OPERATORS)[number];
const ACTIONS = ['allow', 'deny'] as const;
type Action = (typeof ACTIONS)[number];

function isOperator(key: string): key is Operator {
  return (OPERATORS as readonly string[]).includes(key);
}

function isAction(key: string): key is Action {
  return (ACTIONS as readonly string[]).includes(key);
}

const UNKNOWN: Outcome = { truth: 'unknown', reasons: [USER_UNAUTHENTICATED] };

function evaluateCriterion(criterion: CompiledCriterion): Evaluate {
  const pass: Outcome = { truth: 'true', reasons: [criterion.okReason] };
  const fail: Outcome = { truth: 'false', reasons: [criterion.failReason] };
  if (criterion.kind === 'request') return (input) => (criterion.test(input) ? pass : fail);
  return (input) => {
    if (input.user === undefined) return UNKNOWN;
    return criterion.test(input.user) ? pass : fail;
  };
}

/**
 * `decisive` is the child outcome that settles the operator at once (a false child of `and`); `result`
 * maps it to the operator's own truth. Otherwise any unknown child makes the operator unknown, and when
 * every child agreed, the operator is `settled`.
 */
function combine(children: readonly Evaluate[], decisive: Truth, result: Truth, settled: Truth): Evaluate {
  return (input) => {
    let unknown = false;
    const reasons: string[] = [];
    for (const child of children) {
      const outcome = child(input);
      if (outcome.truth === decisive) return { truth: result, reasons: outcome.reasons };
      if (outcome.truth === 'unknown') unknown = true;
      else reasons.push(...outcome.reasons);
    }
    return unknown ? UNKNOWN : { truth: settled, reasons };
  };
}

const OPERATOR_LOGIC: Readonly<Record<Operator, (children: readonly Evaluate[]) => Evaluate>> = {
  and: (children) => combine(children, 'false', 'false', 'true'),
  or: (children) => combine(children, 'true', 'true', 'false'),
  not: (children) => combine(children, 'true', 'false', 'true'),
  nor: (children) => combine(children, 'false', 'true', 'false'),
};

function compileCriteriaList(
  value: unknown,
  path: readonly PathSegment[],
  problems: PolicyProblem[],
): Evaluate[] | undefined {
  if (!Array.isArray(value)) {
    const hint = isPlainObject(value) ? '; put the criterion in a list: [ { … } ]' : '';
    problems.push({ path, message: `must be a list of criteria, got ${describeValue(value)}${hint}` });
    return undefined;
  }
  const entries: readonly unknown[] = value;
  const compiled: Evaluate[] = [];
  let valid = true;
  entries.forEach((entry, index) => {
    const at = [...path, index];
    if (!isPlainObject(entry)) {
      problems.push({
        path: at,
        message: `must be a criterion such as { email: … }, got ${describeValue(entry)}`,
      });
      valid = false;
      return;
    }
    const keys = entriesOf(entry);
    const [first] = keys;
    if (keys.length !== 1 || first === undefined) {
      const names = keys.map(([key]) => key).join(', ');
      problems.push({
        path: at,
        message:
          keys.length === 0
            ? 'is an empty criterion; write one key such as { email: … }'
            : `has ${keys.length} keys (${names}); a criterion has exactly one — give each its own list entry`,
      });
      valid = false;
      return;
    }
    const [name, criterionValue] = first;
    const criterion = compileCriterion(name, criterionValue, [...at, name], problems);
    if (criterion === undefined) valid = false;
    else compiled.push(evaluateCriterion(criterion));
  });
  return valid ? compiled : undefined;
}

/** One rule's body (`{ and: […], or: […] }`): its operators are alternatives, as in Pomerium. */
function compileRuleBody(
  value: unknown,
  path: readonly PathSegment[],
  problems: PolicyProblem[],
): Evaluate[] | undefined {
  if (!isPlainObject(value)) {
    problems.push({
      path,
      message: `must be a mapping of and, or, not or nor to criteria, got ${describeValue(value)}`,
    });
    return undefined;
  }
  const entries = entriesOf(value);
  if (entries.length === 0) {
    problems.push({ path, message: 'needs an operator: and, or, not (none of) or nor (not all of)' });
    return undefined;
  }
  const alternatives: Evaluate[] = [];
  let valid = true;
  for (const [key, criteria] of entries) {
    if (!isOperator(key)) {
      problems.push({
        path: [...path, key],
        message: `unknown operator "${key}"; use and, or, not (none of) or nor (not all of)`,
      });
      valid = false;
      continue;
    }
    const children = compileCriteriaList(criteria, [...path, key], problems);
    if (children === undefined) valid = false;
    // Pomerium skips an empty operator list: it neither allows nor denies.
    else if (children.length > 0) alternatives.push(OPERATOR_LOGIC[key](children));
  }
  return valid ? alternatives : undefined;
}

interface CompiledRules {
  readonly allow: Evaluate[];
  readonly deny: Evaluate[];
}

function compileRule(
  value: unknown,
  path: readonly PathSegment[],
  rules: CompiledRules,
  problems: PolicyProblem[],
) {
  if (!isPlainObject(value)) {
    problems.push({
      path,
      message: `must be a rule such as { allow: { or: […] } }, got ${describeValue(value)}`,
    });
    return;
  }
  const entries = entriesOf(value);
  const [first] = entries;
  if (entries.length !== 1 || first === undefined) {
    const names = entries.map(([key]) => key).join(', ');
    problems.push({
      path,
      message:
        entries.length === 0
          ? 'is an empty rule; write { allow: … } or { deny: … }'
          : `has ${entries.length} keys (${names}); a rule is one allow or one deny — write each as its own rule`,
    });
    return;
  }
  const [action, body] = first;
  if (!isAction(action)) {
    problems.push({
      path: [...path, action],
      message: `unknown action "${action}"; a rule is allow: or deny:`,
    });
    return;
  }
  const alternatives = compileRuleBody(body, [...path, action], problems);
  if (alternatives !== undefined) rules[action].push(...alternatives);
}

/** Any alternative that holds settles the action; otherwise an unknown one leaves it unknown. */
const anyOf = (alternatives: readonly Evaluate[]): Evaluate => combine(alternatives, 'true', 'true', 'false');

function unique(reasons: readonly string[]): readonly string[] {
  return reasons.length < 2 ? reasons : [...new Set(reasons)];
}

export function compilePolicy(document: unknown): CompiledPolicy {
  const problems: PolicyProblem[] = [];
  const rules: CompiledRules = { allow: [], deny: [] };
  if (Array.isArray(document)) {
    const entries: readonly unknown[] = document;
    entries.forEach((rule, index) => compileRule(rule, [index], rules, problems));
  } else {
    compileRule(document, [], rules, problems);
  }
  if (problems.length > 0) return { ok: false, problems };

  const hasAllowRule = rules.allow.length > 0;
  const allow = anyOf(rules.allow);
  const deny = anyOf(rules.deny);

  const policy: Policy = (input) => {
    const denied = deny(input);
    if (denied.truth === 'true') return { decision: 'deny', reasons: unique(denied.reasons) };
    if (!hasAllowRule) return { decision: 'deny', reasons: ['no-allow-rule'] };
    const allowed = allow(input);
    if (allowed.truth === 'false') return { decision: 'deny', reasons: unique(allowed.reasons) };
    if (allowed.truth === 'true' && denied.truth === 'false') {
      return { decision: 'allow', reasons: unique(allowed.reasons) };
    }
    return { decision: 'sign-in', reasons: [USER_UNAUTHENTICATED] };
  };
  return { ok: true, policy };
}
