/**
 * Checks of each route's CORS settings that the schema cannot express key by key (DESIGN 5, rule 7): a
 * policy that would let any website read a signed-in user's answers is refused at load with the reason,
 * not discovered in production.
 */
import type { RouteConfig } from './schema.js';
import type { ProblemAt } from './schema-issues.js';

export interface CorsCheck {
  readonly problems: ProblemAt[];
  readonly warnings: ProblemAt[];
}

const ACCESS_CONTROL = /^access-control-/i;

function checkRoute(route: RouteConfig, index: number, check: CorsCheck): void {
  const at = (...keys: (string | number)[]) => ['routes', index, ...keys];
  const { cors } = route;
  if (cors === undefined) return;
  const refuse = (path: (string | number)[], message: string) => check.problems.push({ path, message });
  const anyOrigin = cors.allowed_origins.some((entry) => entry.kind === 'any');
  if (cors.allow_credentials) {
    if (anyOrigin && !cors.allow_any_origin_with_credentials) {
      refuse(
        at('cors', 'allowed_origins'),
        'allows any origin with allow_credentials: any website could act as the signed-in user. List the ' +
          'origins, or set allow_any_origin_with_credentials: true for an open API that means it',
      );
    }
    if (cors.allowed_origins.some((entry) => entry.kind === 'null')) {
      refuse(
        at('cors', 'allowed_origins'),
        'allows null with allow_credentials: sandboxed frames and data: pages of any site send Origin: null',
      );
    }
    if (cors.exposed_headers.includes('*')) {
      refuse(
        at('cors', 'exposed_headers'),
        'cannot be * with allow_credentials: browsers read it as a header named "*"; list the names',
      );
    }
    if (cors.allowed_methods.includes('*')) {
      refuse(
        at('cors', 'allowed_methods'),
        'cannot be * with allow_credentials: browsers read it as a method named "*"; list the methods',
      );
    }
  }
  if (cors.allow_any_origin_with_credentials) {
    if (!anyOrigin || !cors.allow_credentials) {
      refuse(
        at('cors', 'allow_any_origin_with_credentials'),
        'only applies with "*" in allowed_origins and allow_credentials: true',
      );
    } else {
      check.warnings.push({
        path: at('cors', 'allow_any_origin_with_credentials'),
        message:
          'echoes any origin with credentials: every website can read this route as the signed-in user',
      });
    }
  }
  if (cors.max_age !== undefined && cors.max_age < 0) {
    refuse(at('cors', 'max_age'), `must be 0 or more seconds, not ${cors.max_age}`);
  }
  for (const name of Object.keys(route.set_response_headers)) {
    if (ACCESS_CONTROL.test(name)) {
      refuse(
        at('set_response_headers', name),
        'sets a CORS header next to a cors policy, which answers CORS itself; remove it (or the cors block)',
      );
    }
  }
  if (route.cors_allow_preflight) {
    check.warnings.push({
      path: at('cors_allow_preflight'),
      message: 'is redundant next to cors: the cors policy answers preflights itself',
    });
  }
}

export function validateCors(routes: readonly RouteConfig[]): CorsCheck {
  const check: CorsCheck = { problems: [], warnings: [] };
  routes.forEach((route, index) => checkRoute(route, index, check));
  return check;
}
