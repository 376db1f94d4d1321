/**
 * Pomerium's top-level `policy:` list is the old name of `routes:`. Pomerium serves both, the `policy`
 * entries first (`Options.GetAllPolicies`), and so does Gatehouse, with a warning suggesting `routes`.
 */
import type { Mapping } from './mapping.js';
import type { ProblemAt } from './schema-issues.js';

export interface LegacyPolicy {
  readonly problems: readonly ProblemAt[];
  readonly warnings: readonly ProblemAt[];
  /** How many of the merged routes came from `policy`: `routes[i]` for i below this is `policy[i]`. */
  readonly count: number;
}

export function mergeLegacyPolicy(draft: Mapping): LegacyPolicy {
  if (!('policy' in draft)) return { problems: [], warnings: [], count: 0 };
  const policy: unknown = draft.policy;
  delete draft.policy;
  if (!Array.isArray(policy)) {
    return {
      problems: [
        {
          path: ['policy'],
          message: "is Pomerium's old name for routes and must be a list of routes; write them under routes",
        },
      ],
      warnings: [],
      count: 0,
    };
  }
  const warnings = [{ path: ['policy'], message: "is Pomerium's old name for routes; rename it to routes" }];
  const routes: unknown = draft.routes;
  // A `routes` that is not a list is the schema's to report; the policy entries wait for a valid file.
  if (routes !== undefined && !Array.isArray(routes)) return { problems: [], warnings, count: 0 };
  const entries: readonly unknown[] = policy;
  const existing: readonly unknown[] = routes ?? [];
  draft.routes = [...entries, ...existing];
  return { problems: [], warnings, count: entries.length };
}
